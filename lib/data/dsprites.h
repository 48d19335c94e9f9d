/* Internal: constants of the procedural dSprites renderer (docs/data.md). */
#ifndef JVAE_DATA_DSPRITES_H
#define JVAE_DATA_DSPRITES_H

/* Vertices of the heart polygon, t_i = 2πi/V (the spec asks for >= 200; the
 * oracle counts of the spec do not change from 200 to 1000 vertices). */
#define JVAE_DSPRITES_HEART_VERTICES 256

#endif
