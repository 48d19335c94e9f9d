/* Helpers of the program tests, which fork the example programs and read
 * what they wrote. Failures are cmocka assertions. */
#ifndef JVAE_TEST_PROGRAM_RUN_H
#define JVAE_TEST_PROGRAM_RUN_H

#include <stddef.h>
#include <sys/types.h>

/* The exit code of child pid, which must exit normally (not by a signal). */
int wait_exit(pid_t pid);

/* The same within `seconds`; a child still running then is killed and the
 * test fails, so a broken stop never leaves it burning a core. */
int wait_exit_within(pid_t pid, int seconds);

/* The whole file, NUL-terminated (free it), its length in *size unless size
 * is NULL; NULL when the file cannot be opened. */
char *read_file(const char *path, size_t *size);

#endif
