/* The process-wide BLAS thread count, exposed so that a host can keep OpenBLAS
 * single-threaded under the kernels' own threads without linking OpenBLAS. */
#include <cblas.h>

#include "core/error.h"
#include "jointvae/model.h"

jvae_status jvae_blas_set_threads(int threads)
{
    if (threads < 1)
        return jvae_fail(JVAE_ERR_INVALID_ARGUMENT, "jvae_blas_set_threads: threads must be >= 1, got %d",
                         threads);
    openblas_set_num_threads(threads);
    return JVAE_OK;
}

int jvae_blas_threads(void) { return openblas_get_num_threads(); }
