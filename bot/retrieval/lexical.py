"""BM25 for the archive: tokenizing, the term counts it keeps, and scoring a search's candidates from them.

The index keeps, for every word, which passages hold it and how often (`Lexicon`), not a
score per word and passage: a score depends on every passage (idf, the average length), so a
stored score matrix has to be computed again whenever one article is added (4.4 s at a
million passages). From counts, an update merges the new passages' entries into the kept ones
and a question scores its few dozen candidates when it is asked. The scores are Lucene's
BM25 as bm25s computes it with its defaults (the tests compare with bm25s); bm25s itself has
neither updates nor candidate-only scoring, and importing it (with scipy) cost every
`newsbot ask` 0.3 s.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import os
import re
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

K1, B = 1.5, 0.75  # bm25s's (and Lucene's) defaults
FOLDER = "lexicon"  # in each generation: ARRAYS as .npy files and words.txt
RECENT_FOLDER = "lexicon.recent"  # the passages added since `lexicon/` was written whole (Segments)
# an addition keeps the counts in two segments while the recent one holds at most this many passages
RECENT_MAX = 5_000
ARRAYS = ("indptr", "docs", "tf", "lengths")
EMPTY_DOC = "\u2205"  # the one token of a passage with no word left, so that every passage has a length

# NLTK's English stopwords as bm25s ships them (STOPWORDS_EN_PLUS: question words included);
# copied so that tokenizing a question does not import bm25s and scipy (tests/retrieval/test_lexical.py).
STOPWORDS_EN = frozenset(
    """
a about above after again against ain all am an and any are aren aren't as at be because been before
being below between both but by can couldn couldn't d did didn didn't do does doesn doesn't doing
don don't down during each few for from further had hadn hadn't has hasn hasn't have haven haven't
having he her here hers herself him himself his how i if in into is isn isn't it it's its itself
just ll m ma me mightn mightn't more most mustn mustn't my myself needn needn't no nor not now o of
off on once only or other our ours ourselves out over own re s same shan shan't she she's should
should've shouldn shouldn't so some such t than that that'll the their theirs them themselves then
there these they this those through to too under until up ve very was wasn wasn't we were weren
weren't what when where which while who whom why will with won won't wouldn wouldn't y you you'd
you'll you're you've your yours yourself yourselves
""".split()
)
# Common Indonesian function words; BM25's idf alone lets them add noise to short questions.
STOPWORDS_ID = frozenset(
    """
ada adalah agar akan aku anda antara apa apakah atas atau bagaimana bagi bahwa banyak
baru beberapa begitu belum berapa bisa boleh bukan cara dalam dan dari dapat dengan
di dia ia ini itu jadi jika juga kami kamu kapan karena kata ke kepada kini lagi lain
lebih maka mana masih mereka meski milik mungkin namun oleh pada para per saat saja
sama sampai sangat satu saya se sebagai sebelum secara sedang sehingga sejak semua
seperti serta setelah siapa suatu sudah supaya tahun tak tanpa telah tentang terhadap
tersebut tetapi tidak untuk waktu yaitu yakni yang
""".split()
)
# NLTK's Spanish stopwords as bm25s ships them, without those that are English words too (ENGLISH_TOO:
# "North Sea", "son", "era"): "la", "de", "en" in a Spanish question otherwise match every Spanish passage.
STOPWORDS_ES = frozenset(
    """
a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante e el
ella ellas ellos en entre erais eran eras eres es esa esas ese eso esos esta estaba estabais estaban
estabas estad estada estadas estado estados estamos estando estar estaremos estará estarán estarás
estaré estaréis estaría estaríais estaríamos estarían estarías estas este estemos esto estos estoy
estuve estuviera estuvierais estuvieran estuvieras estuvieron estuviese estuvieseis estuviesen
estuvieses estuvimos estuviste estuvisteis estuviéramos estuviésemos estuvo está estábamos estáis
están estás esté estéis estén estés fue fuera fuerais fueran fueras fueron fuese fueseis fuesen
fueses fui fuimos fuiste fuisteis fuéramos fuésemos ha habida habidas habido habidos habiendo
habremos habrá habrán habrás habré habréis habría habríais habríamos habrían habrías habéis había
habíais habíamos habían habías han has hasta hay haya hayamos hayan hayas hayáis he hemos hube
hubiera hubierais hubieran hubieras hubieron hubiese hubieseis hubiesen hubieses hubimos hubiste
hubisteis hubiéramos hubiésemos hubo la las le les lo los me mi mis mucho muchos muy más mí mía mías
mío míos nada ni no nos nosotras nosotros nuestra nuestras nuestro nuestros o os otra otras otro
otros para pero poco por porque que quien quienes qué se seamos sean seas sentid sentida sentidas
sentido sentidos seremos será serán serás seré seréis sería seríais seríamos serían serías seáis
siente sin sintiendo sobre sois somos soy su sus suya suyas suyo suyos sí también tanto te tendremos
tendrá tendrán tendrás tendré tendréis tendría tendríais tendríamos tendrían tendrías tened tenemos
tenga tengamos tengan tengas tengo tengáis tenida tenidas tenido tenidos teniendo tenéis tenía
teníais teníamos tenían tenías ti tiene tienen tienes todo todos tu tus tuve tuviera tuvierais
tuvieran tuvieras tuvieron tuviese tuvieseis tuviesen tuvieses tuvimos tuviste tuvisteis tuviéramos
tuviésemos tuvo tuya tuyas tuyo tuyos tú un una uno unos vosotras vosotros vuestra vuestras vuestro
vuestros y ya yo él éramos
""".split()
)
ENGLISH_TOO = frozenset({"sea", "son", "era"})
# ... and the question words with their accents, which NLTK's list writes only without ("quien", "cuando")
QUESTION_WORDS_ES = frozenset(
    "quién quiénes cuándo dónde adónde cuánto cuánta cuántos cuántas cuál cuáles cómo".split()
)
STOPWORDS = STOPWORDS_EN | STOPWORDS_ID | STOPWORDS_ES | QUESTION_WORDS_ES
_TOKEN = re.compile(r"(?u)\b\w[\w.,-]*\w\b|\b\w\b")
# An acronym's plural, told by its case: GPUs, LLMs, APIs (but not "bus" or "Status").
_ACRONYM_PLURAL = re.compile(r"[A-Z][A-Z0-9]+s")


def _singular(tok: str) -> str:
    """English plurals match their singular (chips ~ chip), not words that merely end in
    s (bus, class, analysis); a word folded this way is folded alike in questions and
    passages, so an Indonesian word ending in s (kelas) still matches itself."""
    return tok[:-1] if len(tok) > 3 and tok.endswith("s") and not tok.endswith(("ss", "us", "is")) else tok


def tokens(text: str) -> list[str]:
    """Words, keeping numbers like 1,3 or 24-40 whole; stopwords and single letters dropped."""
    out = []
    for tok in _TOKEN.findall(text):
        tok = tok.strip(".,-")
        if _ACRONYM_PLURAL.fullmatch(tok):
            tok = tok[:-1]  # lower-cased, "GPUs" would end in "us" and keep its s
        tok = tok.lower()
        if len(tok) > 1 and tok not in STOPWORDS:
            out.append(_singular(tok))
    return out


def stem(word: str) -> str | None:
    """The start another form of a long word shares with it (Swedish ~ Sweden, Indonesian ~ Indonesia,
    Chilean ~ chilena); None for a word under six letters, whose start says too little."""
    return word[: max(4, len(word) - 3)] if len(word) >= 6 else None


@dataclass(frozen=True)
class Lexicon:
    """Every passage's term counts as a words x passages matrix (CSC: by word, then passage), and the words, sorted.

    An update keeps these counts for the kept passages and merges in those of the new ones
    (`merged`): a word's entries stay sorted by passage, since new passages come last.
    Loaded memory-mapped; the sorted words serve as the archive's vocabulary too.
    """

    indptr: np.ndarray  # int64, words + 1: word w's entries are [indptr[w], indptr[w + 1])
    docs: np.ndarray  # int32, the passage of each entry, increasing within a word
    tf: np.ndarray  # int32, how often the word occurs in that passage
    lengths: np.ndarray  # int64, tokens per passage
    words: list[str]  # sorted: word w is words[w]

    @property
    def size(self) -> int:
        """Tokens in all passages."""
        return int(self.lengths.sum())

    @functools.cached_property
    def _mean_length(self) -> float:
        return float(self.lengths.mean()) if len(self.lengths) else 0.0

    def word_id(self, word: str) -> int | None:
        i = bisect.bisect_left(self.words, word)
        return i if i < len(self.words) and self.words[i] == word else None

    @property
    def word_lists(self) -> tuple[list[str], ...]:
        """The sorted words of each segment (here one): what `trust.knows` looks a word up in."""
        return (self.words,)

    def scores(self, question: str, docs) -> np.ndarray:
        """BM25 score of the passages `docs` for the question, in their order (zeros when no word is known)."""
        return _scores((self,), self._mean_length, question, docs)

    @classmethod
    def of_texts(cls, texts: list[str]) -> Lexicon:
        """The counts of these passages' texts.

        Token ids go in a compact array, not a list: a million passages hold 47M tokens, which
        as Python ints took 1.7 GB of the build's peak.
        """
        index: dict[str, int] = {}
        ids, lengths = array("q"), array("q")
        for text in texts:
            words = tokens(text) or [EMPTY_DOC]
            ids.extend([index.setdefault(w, len(index)) for w in words])
            lengths.append(len(words))
        return cls.of_tokens(np.frombuffer(ids, dtype=np.int64), np.frombuffer(lengths, dtype=np.int64), list(index))

    @classmethod
    def of_tokens(cls, ids: np.ndarray, lengths: np.ndarray, vocab: list[str]) -> Lexicon:
        """From passages' token ids one after another (`lengths` tokens each, ids into `vocab` in any order)."""
        order = sorted(range(len(vocab)), key=vocab.__getitem__)
        rank = np.empty(len(vocab), dtype=np.int64)
        rank[order] = np.arange(len(vocab))
        n = len(lengths)
        # one int64 key per token, (word, passage), sorted and counted in place: two token-sized arrays at most
        key = rank[ids] if len(ids) else np.zeros(0, np.int64)
        key *= max(n, 1)
        key += np.repeat(np.arange(n, dtype=np.int64), lengths)
        key.sort()
        first = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]])) if len(key) else np.zeros(0, np.int64)
        tf = np.diff(np.append(first, len(key)))
        word, doc = np.divmod(key[first], max(n, 1))
        del key
        indptr = np.concatenate([[0], np.cumsum(np.bincount(word, minlength=len(vocab)))]).astype(np.int64)
        sorted_words = [vocab[i] for i in order]
        return cls(indptr, doc.astype(np.int32), tf.astype(np.int32), np.asarray(lengths, np.int64), sorted_words)

    def numbered_from(self, first: int) -> Lexicon:
        """The same counts, the passages numbered from `first` (to follow other passages' counts)."""
        return dataclasses.replace(self, docs=(np.asarray(self.docs) + first).astype(np.int32))

    def words_of_entries(self) -> np.ndarray:
        return np.repeat(np.arange(len(self.words), dtype=np.int64), np.diff(self.indptr))

    def merged(self, rows: np.ndarray, added: Lexicon) -> Lexicon:
        """The counts of this lexicon's passages `rows` (renumbered 0..), then those of `added`
        (numbered from len(rows)); words no passage has any more are dropped."""
        docs, tf, indptr = self.docs, self.tf, self.indptr
        if len(rows) < len(self.lengths):  # passages left: their entries go, the others move up
            renumber = np.full(len(self.lengths), -1, dtype=np.int64)
            renumber[rows] = np.arange(len(rows))
            moved = renumber[docs]
            kept = moved >= 0
            indptr = np.concatenate([[0], np.cumsum(kept)])[indptr]
            docs, tf = moved[kept].astype(np.int32), tf[kept]
        # the new words go in their sorted places: every old word moves down by the new ones before it
        old_words = np.array(self.words, dtype=object)
        new_words = [w for w in added.words if self.word_id(w) is None]
        at = np.searchsorted(old_words, np.array(new_words, dtype=object)) if new_words else np.zeros(0, np.int64)
        words = np.insert(old_words, at, new_words).tolist() if new_words else list(self.words)
        moved_to = np.arange(len(old_words)) + np.searchsorted(at, np.arange(len(old_words)), side="right")
        counts = np.zeros(len(words), dtype=np.int64)
        counts[moved_to] = np.diff(indptr)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        # the new passages' entries go at the end of their word's run: their passages come after the kept ones
        word = np.searchsorted(np.array(words, dtype=object), np.array(added.words, dtype=object))[
            added.words_of_entries()
        ]
        merged = Lexicon(
            indptr + np.concatenate([[0], np.cumsum(np.bincount(word, minlength=len(words)))]),
            np.insert(docs, indptr[word + 1], added.docs),
            np.insert(tf, indptr[word + 1], added.tf),
            np.concatenate([np.asarray(self.lengths)[rows], added.lengths]),
            words,
        )
        return merged.without_unused()

    def without_unused(self) -> Lexicon:
        """Without the words no passage has any more (a fresh build would not know them)."""
        counts = np.diff(self.indptr)
        if np.all(counts > 0):
            return self
        used = counts > 0
        indptr = np.concatenate([[0], np.cumsum(counts[used])]).astype(np.int64)
        return dataclasses.replace(self, indptr=indptr, words=[w for w, u in zip(self.words, used, strict=True) if u])

    def save(self, folder: Path, linked_from: Path | None = None) -> None:
        """Into `folder`; hard links to the files in `linked_from`, when given (the same counts, already written)."""
        if linked_from is not None:
            folder.mkdir(exist_ok=True)
            for name in (*(f"{a}.npy" for a in ARRAYS), "words.txt"):
                os.link(linked_from / name, folder / name)
            return
        folder.mkdir(exist_ok=True)
        for name in ARRAYS:
            np.save(folder / f"{name}.npy", np.ascontiguousarray(getattr(self, name)), allow_pickle=False)
        (folder / "words.txt").write_text("\n".join(self.words), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, passages: int) -> Lexicon:
        """Memory-mapped; ValueError saying what does not fit if the files do not describe `passages` passages."""
        arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in ARRAYS}
        text = (folder / "words.txt").read_text(encoding="utf-8")
        words = text.split("\n") if text else []
        indptr, docs, lengths = arrays["indptr"], arrays["docs"], arrays["lengths"]
        checks = (
            (lengths.shape == (passages,), f"BM25 counts describe {len(lengths)} passages, expected {passages}"),
            (indptr.shape == (len(words) + 1,), "BM25 words do not match their counts"),
            (indptr[0] == 0 and indptr[-1] == len(docs) == len(arrays["tf"]), "BM25 counts are cut short"),
            (not len(docs) or int(docs.max()) < passages, "BM25 counts name passages the index does not have"),
        )
        for ok, why in checks:
            if not ok:
                raise ValueError(why)
        return cls(indptr, docs, arrays["tf"], lengths, words)


@dataclass(frozen=True)
class Segments:
    """The counts in two segments: `main`, as the last full merge wrote it (shared by the generations
    after it, never rewritten by an addition), and `recent`, the passages added since (numbered from 0).

    An addition then costs what it adds: at a million passages, merging one article's counts into
    the 40M entries and writing them took 3.2 s. Scores equal those of the counts merged into one.
    """

    main: Lexicon
    recent: Lexicon
    main_folder: Path | None = None  # where `main` was loaded from: saved as links to those files

    @property
    def lengths(self) -> np.ndarray:
        return np.concatenate([np.asarray(self.main.lengths), self.recent.lengths])

    @property
    def size(self) -> int:
        return self.main.size + self.recent.size

    @property
    def word_lists(self) -> tuple[list[str], ...]:
        return (self.main.words, self.recent.words)

    @functools.cached_property
    def words(self) -> list[str]:
        """Every word, sorted: built on first use (a question looks words up segment by segment)."""
        return sorted(set(self.main.words).union(self.recent.words))

    @functools.cached_property
    def _mean_length(self) -> float:
        n = len(self.main.lengths) + len(self.recent.lengths)
        return (self.main.size + self.recent.size) / n if n else 0.0

    def scores(self, question: str, docs) -> np.ndarray:
        return _scores((self.main, self.recent), self._mean_length, question, docs)

    def whole(self) -> Lexicon:
        """The two segments merged into one."""
        n = len(self.main.lengths)
        return self.main.merged(np.arange(n), self.recent.numbered_from(n))

    def save(self, folder: Path) -> None:
        self.main.save(folder / FOLDER, linked_from=self.main_folder)
        self.recent.save(folder / RECENT_FOLDER)


def _scores(segments, mean_length: float, question: str, docs) -> np.ndarray:
    """BM25 score of the passages `docs` (numbered across the segments, one after another) for the
    question, in their order; zeros when no word is known.

    Word by word, in the precision bm25s uses (its float32 score per entry, summed in float32),
    so that the scores equal bm25s's; a word the question repeats counts again. A word's
    document frequency is its count over every segment.
    """
    docs = np.asarray(docs, dtype=np.int64)
    out = np.zeros(len(docs), dtype=np.float32)
    sizes = [len(s.lengths) for s in segments]
    n = sum(sizes)
    if not n or not len(docs):
        return out
    firsts = np.cumsum([0, *sizes])
    where = np.searchsorted(firsts, docs, side="right") - 1  # each doc's segment
    lengths = np.zeros(len(docs), dtype=np.int64)
    for k, seg in enumerate(segments):
        mine = where == k
        lengths[mine] = np.asarray(seg.lengths[docs[mine] - firsts[k]])
    norm = K1 * ((1 - B) + B * lengths / mean_length)
    for token in tokens(question):
        runs = []
        for k, seg in enumerate(segments):
            w = seg.word_id(token)
            if w is not None and int(seg.indptr[w + 1]) > int(seg.indptr[w]):
                runs.append((k, seg, int(seg.indptr[w]), int(seg.indptr[w + 1])))
        if not runs:
            continue
        df = np.array([sum(end - start for _, _, start, end in runs)])
        idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        for k, seg, start, end in runs:
            mine = np.flatnonzero(where == k)
            local = docs[mine] - firsts[k]
            posting = np.asarray(seg.docs[start:end], dtype=np.int64)
            at = np.minimum(np.searchsorted(posting, local), end - start - 1)
            held = posting[at] == local
            tf = np.asarray(seg.tf[start:end][at[held]], dtype=np.float32)
            out[mine[held]] += (idf * (tf / (norm[mine[held]] + tf))).astype(np.float32)
    return out


def save(lexicon: Lexicon | Segments, generation: Path) -> None:
    if isinstance(lexicon, Segments):
        lexicon.save(generation)
    else:
        lexicon.save(generation / FOLDER)


def load(folder: Path, passages: int, recent: int = 0) -> Lexicon | Segments:
    """The generation's counts: one lexicon, or the shared one and the recent passages' (manifest "recent")."""
    main = Lexicon.load(folder / FOLDER, passages - recent)
    if not recent:
        return main
    return Segments(main, Lexicon.load(folder / RECENT_FOLDER, recent), main_folder=folder / FOLDER)


def manifest_entry(lexicon: Lexicon | Segments, tokenizer: str) -> dict:
    entry = {"tokenizer": tokenizer, "tokens": lexicon.size, "k1": K1, "b": B}
    if isinstance(lexicon, Segments):
        entry["recent"] = len(lexicon.recent.lengths)
    return entry
