#include "core/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

static const char temp_suffix[] = ".tmp-XXXXXX";

static void release(jvae_atomic_file *file)
{
    free(file->temp_path);
    free(file->final_path);
    file->temp_path = NULL;
    file->final_path = NULL;
    file->stream = NULL;
}

jvae_status jvae_atomic_open(jvae_atomic_file *file, const char *path)
{
    memset(file, 0, sizeof *file);
    size_t length = strlen(path);
    file->final_path = malloc(length + 1);
    file->temp_path = malloc(length + sizeof temp_suffix);
    if (file->final_path == NULL || file->temp_path == NULL) {
        release(file);
        return jvae_fail(JVAE_ERR_OUT_OF_MEMORY, "%s: cannot allocate the temporary name", path);
    }
    memcpy(file->final_path, path, length + 1);
    memcpy(file->temp_path, path, length);
    memcpy(file->temp_path + length, temp_suffix, sizeof temp_suffix);
    int fd = mkstemp(file->temp_path);
    if (fd < 0) {
        int saved = errno;
        jvae_status st = jvae_fail(JVAE_ERR_IO, "%s: cannot create a temporary file beside it: %s",
                                   path, strerror(saved));
        release(file);
        return st;
    }
    /* mkstemp makes the file private (0600); a saved file is an ordinary
     * document. */
    if (fchmod(fd, 0644) != 0 || (file->stream = fdopen(fd, "wb")) == NULL) {
        int saved = errno;
        close(fd);
        unlink(file->temp_path);
        jvae_status st = jvae_fail(JVAE_ERR_IO, "%s: cannot prepare the temporary file: %s", path,
                                   strerror(saved));
        release(file);
        return st;
    }
    return JVAE_OK;
}

jvae_status jvae_atomic_write(jvae_atomic_file *file, const void *data, size_t bytes)
{
    if (bytes == 0) return JVAE_OK;
    if (fwrite(data, 1, bytes, file->stream) != bytes)
        return jvae_fail(JVAE_ERR_IO, "%s: write failed: %s", file->final_path, strerror(errno));
    return JVAE_OK;
}

void jvae_atomic_abort(jvae_atomic_file *file)
{
    if (file->stream != NULL) fclose(file->stream);
    if (file->temp_path != NULL) unlink(file->temp_path);
    release(file);
}

/* Make the rename itself durable. Failure here cannot undo the rename, and the
 * data is already complete on disk, so it is not reported. */
static void sync_folder(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *folder = NULL;
    if (slash == NULL) {
        folder = strdup(".");
    } else {
        size_t length = slash == path ? 1 : (size_t)(slash - path);
        folder = malloc(length + 1);
        if (folder != NULL) {
            memcpy(folder, path, length);
            folder[length] = '\0';
        }
    }
    if (folder == NULL) return;
    int fd = open(folder, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(folder);
}

jvae_status jvae_atomic_commit(jvae_atomic_file *file)
{
    const char *failed = NULL;
    if (fflush(file->stream) != 0) failed = "write failed";
    else if (fsync(fileno(file->stream)) != 0) failed = "fsync failed";
    int saved = errno;
    if (fclose(file->stream) != 0 && failed == NULL) {
        failed = "close failed";
        saved = errno;
    }
    file->stream = NULL;
    if (failed == NULL && rename(file->temp_path, file->final_path) != 0) {
        failed = "cannot rename the temporary file into place";
        saved = errno;
    }
    if (failed != NULL) {
        jvae_status st =
            jvae_fail(JVAE_ERR_IO, "%s: %s: %s", file->final_path, failed, strerror(saved));
        jvae_atomic_abort(file);
        return st;
    }
    sync_folder(file->final_path);
    release(file);
    return JVAE_OK;
}
