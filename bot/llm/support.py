"""How well a source supports one sentence of an answer: what the sentence adds, stated nearby.

A sentence is judged on what it adds beyond the question: its numbers, names (and
full names) and quoted words must be in the evidence, and its *support* is the share of
its added content words the evidence holds. `judge_locally` asks that of the passages
of the cited articles: the facts together within FACT_WINDOW sentences (names an
article mentions throughout, its subject, excepted), the words within WINDOW.
"""

from collections import Counter
from collections.abc import Sequence
from collections.abc import Set as AbstractSet

from bot.llm.markers import MARKER
from bot.llm.roles import opening_name, role_failures
from index import mentions
from index.sentences import sentence_spans
from index.terms import stem, terms, words

_DISCOURSE = frozenset(
    stem(
        "report reports account accounts differ differs vary varies slightly source sources "
        "articles another separately however meanwhile".split()
    )
)
WINDOW = 3  # sentences of a source that together must hold an answer sentence's words
FACT_WINDOW = 2  # ... and its names, numbers and quotes
TOPIC_SENTENCES = 3  # a name this many sentences of an article mention is its subject


def judge(sentence: str, evidence: str, question: str = "") -> tuple[float, list[str]]:
    """A sentence's support by the evidence (0-1), and the checks it failed.

    Its numbers, names and quotes must be in the evidence (else 0); its support is the
    share of the content words it adds beyond the question that the evidence contains.
    """
    failed = missing(sentence, evidence)
    return (0.0 if failed else share(sentence, evidence, question)), failed


def missing(
    sentence: str, evidence: str, given: str = "", known: AbstractSet[str] = frozenset()
) -> list[str]:
    """Which of the sentence's numbers, names and quotes the evidence lacks.

    Those the `given` text (the question) also has, and `known` names, are not asked of it.
    """
    bare = MARKER.sub(" ", sentence)
    failed = []
    wanted = mentions.numbers(bare) - mentions.numbers(given)
    if not wanted <= mentions.numbers(evidence, spelled=True):
        failed.append("number")
    folded, asked = mentions.fold(evidence), f" {mentions.fold(given)} "
    runs = [run for run in mentions.full_names(bare) if f" {run} " not in asked]
    names = mentions.names(bare) - mentions.names(given) - set(terms(given)) - known
    if not names <= set(terms(evidence)) | mentions.names(evidence) or any(
        f" {run} " not in f" {folded} " for run in runs
    ):
        failed.append("name")
    if any(quote not in folded for quote in mentions.quotations(bare)):
        failed.append("quote")
    return failed


def share(sentence: str, evidence: str, question: str = "") -> float:
    """The share of the content words the sentence adds beyond the question found in evidence."""
    added = set(terms(MARKER.sub(" ", sentence))) - set(terms(question)) - _DISCOURSE
    return len(added & set(terms(evidence))) / len(added) if added else 1.0


def judge_locally(
    sentence: str, sources: Sequence[str], question: str = ""
) -> tuple[float, list[str]]:
    """Like `judge`, against the passages of the cited sources that best support it.

    Its numbers, names and quotes must be in the sources, and those the question lacks
    must be stated together, within FACT_WINDOW sentences of one source: "the previous
    record, set in 2007, was 4.7 metres" fails when the article gives 2007 with another
    level and 4.7 metres sentences away, and so does a quote given to someone the article
    names elsewhere. Its words must be within
    WINDOW sentences. A sentence that combines sources is judged against the best
    passage of each, together.
    """
    facts = [passages(source, FACT_WINDOW) for source in sources]
    failed = missing(sentence, "\n".join(sources))  # the question's own names too
    opening = opening_name(sentence, sources)
    if opening and opening not in words("\n".join(sources)) and "name" not in failed:
        failed.append("name")  # "Putin cited …": a name, though it opens the sentence
    topics = _topics(sources)
    if not failed:
        failed = min(
            (missing(sentence, p, question, topics) for each in facts for p in each), key=len
        )
    if failed and len(sources) > 1:
        together = " ".join(max(each, key=lambda p: _facts_held(sentence, p)) for each in facts)
        failed = min(failed, missing(sentence, together, question, topics), key=len)
    failed = failed or role_failures(sentence, sources, question)
    if failed:
        return 0.0, failed
    wording = [passages(source, WINDOW) for source in sources]
    best = max(share(sentence, p, question) for each in wording for p in each)
    if best < 1.0 and len(sources) > 1:
        together = " ".join(
            max(each, key=lambda p: share(sentence, p, question)) for each in wording
        )
        best = max(best, share(sentence, together, question))
    return best, []


def _topics(sources: Sequence[str]) -> set[str]:
    """The names that TOPIC_SENTENCES or more sentences of one source mention: its subject.

    An answer may name an article's subject ("Greyfield", where the plant is built) away
    from the sentences that state its facts; everyone else must stand near them.
    """
    topics: set[str] = set()
    for source in sources:
        counts = Counter(
            name for a, b in sentence_spans(source) for name in mentions.names(source[a:b])
        )
        topics |= {name for name, n in counts.items() if n >= TOPIC_SENTENCES}
    return topics


def passages(source: str, window: int) -> list[str]:
    """Every run of up to `window` consecutive sentences of the source."""
    spans = sentence_spans(source) or [(0, len(source))]
    return [
        source[spans[i][0] : spans[min(i + window, len(spans)) - 1][1]] for i in range(len(spans))
    ]


def _facts_held(sentence: str, passage: str) -> int:
    """How many of the sentence's numbers and names the passage holds."""
    bare = MARKER.sub(" ", sentence)
    numbers = mentions.numbers(bare) & mentions.numbers(passage, spelled=True)
    names = mentions.names(bare) & (set(terms(passage)) | mentions.names(passage))
    return len(numbers) + len(names)


def sentence_support(sentence: str, evidence: str) -> float:
    """Share of the sentence's content words in the evidence; 0 for a foreign number or name."""
    return judge(sentence, evidence)[0]
