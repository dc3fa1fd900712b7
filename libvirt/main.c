/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vfio-bind-libvirt-hook: libvirt's QEMU hook (libvirt/hook.h), on the real machine: the CLI
 * installed with it, the journal. */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <syslog.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "hook.h"
#include "vb-config.h"

extern char **environ;

static pid_t spawn_cli(const VbhSetup *s, char *const *argv, int out_fd, int err_fd) {
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r;

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
        if (r == 0)
                r = posix_spawn(&pid, s->cli, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        return r == 0 ? pid : -r;
}

static void log_journal(const VbhSetup *s, int priority, const char *domain, const char *operation,
                        const char *message) {
        if (priority == LOG_DEBUG)
                return;
        (void) sd_journal_send("MESSAGE=%s: %s", domain, message, "PRIORITY=%i", priority,
                               "SYSLOG_IDENTIFIER=vfio-bind-libvirt-hook", "VFIO_BIND_DOMAIN=%s", domain,
                               "VFIO_BIND_HOOK_OPERATION=%s", operation, NULL);
}

int main(int argc, char **argv) {
        return vbh_main(argc, argv,
                        &(VbhSetup) {
                                .cli = VB_CLI_PATH,
                                .stdin_fd = STDIN_FILENO,
                                .spawn = spawn_cli,
                                .log = log_journal,
                        });
}
