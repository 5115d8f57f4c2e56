#ifndef C_SYSTEMD_SHIM_H
#define C_SYSTEMD_SHIM_H
/* sd_notify, sd_listen_fds and friends from libsystemd-dev. */
#include <systemd/sd-daemon.h>
#endif
