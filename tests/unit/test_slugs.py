import pytest

from voxa.errors import InvalidInput
from voxa.slugs import validate_slug


@pytest.mark.parametrize("slug", ["abc", "acme-co", "a1-b2-c3", "x" * 40, "general-store"])
def test_valid(slug: str) -> None:
    assert validate_slug(slug) == slug


@pytest.mark.parametrize(
    "slug",
    [
        "ab",
        "x" * 41,
        "general",
        "owner",
        "owners-club",
        "Acme",
        "-abc",
        "abc-",
        "a--b",
        "a_b",
        "a b",
        "ünï",
    ],
)
def test_invalid(slug: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        validate_slug(slug)
    assert exc.value.code == "invalid_slug"
