"""The affiliations the directory knows, keyed by their English name, with the Japanese
name to show beside it: for lists that offer affiliations to choose (campaigns)."""

from django.db.models import Count

from campusconf.members.models import Member, affiliation_label


def japanese_names() -> dict[str, str]:
    """English name → Japanese name, for every affiliation some member has.

    The Japanese name travels on each member (the directory sends it per person), so
    two sources may disagree for a while; the most common one wins, and an affiliation
    no source named in Japanese maps to "".
    """
    pairs = (
        Member.objects.exclude(affiliation="")
        .values_list("affiliation", "affiliation_ja")
        .annotate(n=Count("pk"))
        .order_by()
    )
    best: dict[str, tuple[int, str]] = {}
    for english, japanese, n in pairs:
        if japanese and n > best.get(english, (0, ""))[0]:
            best[english] = (n, japanese)
        best.setdefault(english, (0, ""))
    return {english: japanese for english, (_, japanese) in best.items()}


def choices() -> list[tuple[str, str]]:
    """(English name, name in the reader's language), sorted by the name shown."""
    names = japanese_names()
    labelled = [(english, affiliation_label(english, names[english])) for english in names]
    return sorted(labelled, key=lambda pair: (pair[1], pair[0]))


def labels(english_names: list[str]) -> list[str]:
    """The names a cohort stores (English) in the reader's language."""
    names = japanese_names()
    return [affiliation_label(english, names.get(english, "")) for english in english_names]
