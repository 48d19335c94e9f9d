#include "program_run.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

int wait_exit(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

int wait_exit_within(pid_t pid, int seconds)
{
    struct timespec pause = {0, 10000000};
    int status = 0;
    for (int i = 0; i < seconds * 100; i++) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        assert_true(done == 0 || done == pid);
        if (done == pid) {
            assert_true(WIFEXITED(status));
            return WEXITSTATUS(status);
        }
        nanosleep(&pause, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    fail_msg("the program still ran %d s after the signal", seconds);
    return -1;
}

char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long length = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)length + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)length, f), (size_t)length);
    data[length] = '\0';
    fclose(f);
    if (size != NULL) *size = (size_t)length;
    return data;
}
