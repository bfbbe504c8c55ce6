#include "root/disk_block.h"

static void submit(struct block_device *device, struct block_request *request)
{
    struct disk_block *block = device->context;
    bool ok = false;
    /* storvsp checked the range against sector_count; disk_volume_* check it again. */
    switch (request->operation) {
    case BLOCK_READ:
        ok = disk_volume_read(block->volume, request->sector, request->sector_count,
                              request->buffer);
        break;
    case BLOCK_WRITE:
        ok = !block->volume->io.read_only &&
             disk_volume_write(block->volume, request->sector, request->sector_count,
                               request->buffer);
        break;
    case BLOCK_FLUSH:
        ok = disk_volume_flush(block->volume);
        break;
    }
    request->done(request, ok);
}

void disk_block_init(struct disk_block *block, struct disk_volume *volume)
{
    block->volume = volume;
    block->device = (struct block_device){
        .sector_count = volume->sector_count,
        .read_only = volume->io.read_only,
        .submit = submit,
        .context = block,
    };
}
