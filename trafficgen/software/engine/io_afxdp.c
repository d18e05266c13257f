/* AF_XDP backend: placeholder until implemented. */
#include <errno.h>
#include <stdio.h>
#include "vsg.h"
static int xo(struct port *p, const struct engine *e, char *msg, size_t ml) { (void)p; (void)e; snprintf(msg, ml, "AF_XDP support not built in"); return -EOPNOTSUPP; }
const struct io_ops afxdp_ops = {.name = "af_xdp", .open = xo};
