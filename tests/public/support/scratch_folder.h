/* For the public-API tests (which link only the shared library): a private
 * folder per test program, made by the group setup and removed by the group
 * teardown. */
#ifndef JVAE_TEST_SCRATCH_FOLDER_H
#define JVAE_TEST_SCRATCH_FOLDER_H

/* cmocka group setup/teardown: a fresh "<binary dir>/<program>-XXXXXX" folder. */
int scratch_folder_create(void **state);
int scratch_folder_remove(void **state);

/* "<folder>/<name>" in a static buffer, valid until the next call. */
const char *path_in_folder(const char *name);

#endif
