"""The sanitizer's report told to editors in plain words, one sentence per kind of removal."""

from __future__ import annotations

import pytest

from bulletin.editor.removals import plain_words
from bulletin.statements.sanitize import DROP_CONTENT_TAGS, clean_report


def words_for(html: str) -> list[str]:
    return plain_words(clean_report(html).removed)


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<img src="https://tracker.example/x.png" alt="x">', "Images from other sites are not allowed"),
        ('<img src="//tracker.example/x.png" alt="x">', "Images from other sites are not allowed"),
        ("<script>alert(1)</script>", "Scripts were removed"),
        ('<p onclick="steal()">x</p>', "A script in the onclick attribute was removed."),
        (
            '<p onclick="a()" onmouseover="b()">x</p>',
            "Scripts in the attributes onclick, onmouseover were removed.",
        ),
        (
            '<a href="javascript:alert(1)">x</a>',
            "Links that run scripts (javascript:) were removed; their text was kept.",
        ),
        ('<a href="file:///etc/passwd">x</a>', "Links to file: addresses are not allowed"),
        (
            '<img src="data:image/png;base64,AAAA" alt="">',
            "Images written into the text (data:) are not allowed",
        ),
        ("<img alt='no source'>", "Images without an address that can be read were removed."),
        ("<style>p{color:red}</style>", "Style sheets were removed"),
        ('<p style="color:red">x</p>', "Inline styles were removed"),
        (
            '<iframe src="https://video.example/"></iframe>',
            "Embedded frames and plug-ins (<iframe>) were removed",
        ),
        ("<svg><circle r='4'/></svg>", "Drawings and formulas (<svg>) were removed"),
        ("<noscript>x</noscript>", "Hidden parts of a page (<noscript>) were removed"),
        ("<form><input name=a></form>", "The elements <form>, <input> are not allowed"),
        ("<font>x</font>", "The <font> element is not allowed: its tags were removed and its text kept."),
        ('<p class="x" id="y">x</p>', "The attributes class, id are not allowed and were removed."),
        ("<!-- a note -->x", "HTML comments were removed."),
    ],
)
def test_each_kind_of_removal_has_its_plain_sentence(html, expected):
    assert any(sentence.startswith(expected) for sentence in words_for(html)), words_for(html)


@pytest.mark.parametrize("tag", sorted(DROP_CONTENT_TAGS))
def test_every_element_removed_with_its_content_is_told_by_name(tag):
    sentences = words_for(f"<p>kept</p><{tag}>gone</{tag}>")
    assert len(sentences) == 1 and not sentences[0].startswith("Also removed")
    assert tag in sentences[0].lower() or tag in ("script", "style")


def test_many_removals_of_one_kind_make_one_sentence_and_the_most_serious_come_first():
    html = (
        '<p onclick="a()" onload="b()" onfocus="c()">x</p><!-- c -->'
        '<img src="https://far.example/a.png" alt=""><script>x</script>'
    )
    sentences = words_for(html)
    assert len(sentences) == 4
    assert sentences[0].startswith("Scripts were removed")
    assert sentences[1] == "Scripts in the attributes onclick, onload, onfocus were removed."
    assert sentences[2].startswith("Images from other sites are not allowed")
    assert sentences[3] == "HTML comments were removed."


def test_nothing_removed_says_nothing_and_an_unknown_kind_is_still_named():
    assert words_for("<p>Plain <em>text</em>.</p>") == []
    assert plain_words(["mystery thing"]) == ["Also removed: mystery thing."]


def test_the_editor_shows_the_plain_sentences_after_saving(editor_client):
    body = '<img src="https://far.example/a.png" alt="a"> <script>x</script> text'
    statement_id = editor_client.create("With an image", body, source_format="html")
    page = editor_client.get(f"/editor/statements/{statement_id}").get_data(as_text=True)
    assert "Images from other sites are not allowed" in page and "Scripts were removed" in page
    assert "external image" not in page and "script element" not in page
