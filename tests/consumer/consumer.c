/* A user's program: includes the installed header, links the installed library. */
#include <jointvae/jointvae.h>
#include <stdio.h>

int main(void)
{
    if (jvae_version_number() != JVAE_VERSION_NUMBER) {
        fprintf(stderr, "header %d, library %u\n", JVAE_VERSION_NUMBER, jvae_version_number());
        return 1;
    }
    int64_t shape[2] = {2, 3};
    jvae_tensor *t = NULL;
    if (jvae_tensor_create(&t, 2, shape) != JVAE_OK) return 1;
    jvae_tensor_fill(t, 0.5f);
    float sum = 0;
    for (int64_t i = 0; i < jvae_tensor_numel(t); i++) sum += jvae_tensor_data(t)[i];
    jvae_tensor_free(t);
    if (sum != 3.0f) return 1;
    printf("consumer ok: libjointvae %s\n", jvae_version_string());
    return 0;
}
