"""A small writer for Ninja files (our own; the format is documented in the Ninja manual)."""


def _escape_path(p):
    return p.replace("$ ", "$$ ").replace(" ", "$ ").replace(":", "$:")


def _list(x):
    if x is None:
        return []
    if isinstance(x, str):
        return [x]
    return list(x)


class Writer:
    def __init__(self, out, width=100):
        self.out = out
        self.width = width

    def newline(self):
        self.out.write("\n")

    def comment(self, text):
        self.out.write("# " + text + "\n")

    def variable(self, key, value, indent=0):
        self.out.write("  " * indent + "%s = %s\n" % (key, value))

    def rule(self, name, command, description=None, depfile=None, deps=None,
             generator=False, pool=None, restat=False):
        self.out.write("rule %s\n" % name)
        self.variable("command", command, 1)
        if description:
            self.variable("description", description, 1)
        if depfile:
            self.variable("depfile", depfile, 1)
        if deps:
            self.variable("deps", deps, 1)
        if generator:
            self.variable("generator", "1", 1)
        if pool:
            self.variable("pool", pool, 1)
        if restat:
            self.variable("restat", "1", 1)

    def build(self, outputs, rule, inputs=None, implicit=None, order_only=None,
              variables=None, implicit_outputs=None, pool=None):
        line = "build " + " ".join(_escape_path(o) for o in _list(outputs))
        if implicit_outputs:
            line += " | " + " ".join(_escape_path(o) for o in _list(implicit_outputs))
        line += ": " + rule
        ins = [_escape_path(i) for i in _list(inputs)]
        if ins:
            line += " " + " ".join(ins)
        if implicit:
            line += " | " + " ".join(_escape_path(i) for i in _list(implicit))
        if order_only:
            line += " || " + " ".join(_escape_path(i) for i in _list(order_only))
        self.out.write(line + "\n")
        if pool:
            self.variable("pool", pool, 1)
        for k, v in (variables or {}).items():
            self.variable(k, v, 1)

    def default(self, paths):
        self.out.write("default %s\n" % " ".join(_escape_path(p) for p in _list(paths)))
