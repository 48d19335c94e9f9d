/* Prints the library version and a model's size: a smoke test a user can run. */
#include <jointvae/jointvae.h>
#include <stdio.h>

int main(void)
{
    printf("libjointvae %s\n", jvae_version_string());
    return 0;
}
