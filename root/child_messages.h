/*
 * The root's end of child messages and events (hv/root_abi.h, docs/hypercalls.md): a
 * child's HvCallPostMessage arrives in SINT HVFW_ROOT_SINT_CHILD of root VP 0's message
 * page, its HvCallSignalEvent as a flag in the same SINT's event flags (one per child) and
 * the child's pending-connection set behind HvCallHvfwGetChildEvents. Until the VMBus
 * server (issue 5) takes them, each is logged at debug level; the echo connection
 * (HVFW_CHILD_CONNECTION_ECHO) is answered, which is how a child checks the path both
 * ways. Runs on root VP 0, in the worker's loop.
 */
#ifndef HVFW_ROOT_CHILD_MESSAGES_H
#define HVFW_ROOT_CHILD_MESSAGES_H

#include <stdbool.h>

/* Takes one waiting child message, or the pending event notifications; true if there was
 * anything (the caller polls again before it halts). The first call enables root VP 0's
 * event flags page. */
bool child_messages_poll(void);

#endif
