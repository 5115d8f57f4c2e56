#ifndef C_LINUX_SHIM_H
#define C_LINUX_SHIM_H
/* Linux calls Glibc's Swift overlay leaves out: eventfd, thread names, mallopt. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/eventfd.h>
#include <pthread.h>
#include <malloc.h>
#endif
