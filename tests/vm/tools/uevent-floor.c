/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The floor of what a PCI uevent costs any listener: a libudev monitor on the kernel's group,
 * filtered to "pci" as vfio-bindd's is, that reads what the daemon reads of each uevent (its
 * action, sysname and PCI_ID=) and nothing else. Scenario 30 runs it beside the daemon during a
 * storm at devices the daemon does not look after: its CPU per uevent is libudev's receive and
 * parse, and the daemon's CPU above it is the daemon's own.
 *
 *   uevent-floor          runs until SIGTERM or SIGINT, then prints "uevents N" and exits 0
 */
#include <errno.h>
#include <libudev.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

int main(void) {
        struct udev *udev = NULL;
        struct udev_monitor *mon = NULL;
        unsigned long long n = 0;
        sigset_t mask;
        int sfd = -1, r = 1;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0) {
                fprintf(stderr, "uevent-floor: signalfd: %s\n", strerror(errno));
                goto out;
        }
        udev = udev_new();
        mon = udev ? udev_monitor_new_from_netlink(udev, "kernel") : NULL;
        if (!mon || udev_monitor_filter_add_match_subsystem_devtype(mon, "pci", NULL) < 0 ||
            udev_monitor_enable_receiving(mon) < 0) {
                fprintf(stderr, "uevent-floor: cannot listen to the kernel's uevents\n");
                goto out;
        }
        for (;;) {
                struct pollfd p[2] = {
                        { .fd = udev_monitor_get_fd(mon), .events = POLLIN },
                        { .fd = sfd, .events = POLLIN },
                };

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        fprintf(stderr, "uevent-floor: poll: %s\n", strerror(errno));
                        goto out;
                }
                if (p[1].revents)
                        break;
                for (;;) {
                        struct udev_device *d;
                        const char *action, *sysname, *id;

                        errno = 0;
                        d = udev_monitor_receive_device(mon);
                        if (!d) {
                                if (errno == ENOBUFS)
                                        continue;
                                break;
                        }
                        action = udev_device_get_action(d);
                        sysname = udev_device_get_sysname(d);
                        id = udev_device_get_property_value(d, "PCI_ID");
                        if (action && sysname && id)
                                n++;
                        udev_device_unref(d);
                }
        }
        printf("uevents %llu\n", n);
        r = 0;
out:
        udev_monitor_unref(mon);
        udev_unref(udev);
        if (sfd >= 0)
                close(sfd);
        return r;
}
