"""Tests for bulletin.sources: one source file in, one structured record out."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import STATEMENT_FILE, shared_seeds

from bulletin.importing.sources import DEFAULT_DROP_LINES, ParsedSource, SourceError, parse_source

CHROME = "You are currently offline. Some pages or content may fail to load."
UTC = UTC


def parse(name: str, text: str, **options) -> ParsedSource:
    return parse_source(f"statements/{name}", text.encode("utf-8"), **options)


def error_of(name: str, data: bytes | str, **options) -> SourceError:
    if isinstance(data, str):
        data = data.encode("utf-8")
    with pytest.raises(SourceError) as caught:
        parse_source(f"statements/{name}", data, **options)
    return caught.value


@dataclass(frozen=True)
class Known:
    """A statement file and what parsing it must give."""

    data: bytes
    title: str
    published: date
    first_words: str
    last_words: str


def own_file() -> Known:
    return Known(
        STATEMENT_FILE.read_bytes(),
        "Harbour union condemns the arrest of striking dockers in Port Meridian",
        date(2023, 3, 14),
        "The Coastal Workers' Federation condemns",
        "until the last of them is home.",
    )


def shared_seed() -> Known:
    return Known(
        shared_seeds()[0].read_bytes(),
        "SI condemns violence in Kazakhstan",
        date(2022, 1, 7),
        "The Socialist International condemns",
        "faced by many Kazakhs.",
    )


@pytest.fixture(params=[own_file, shared_seed], ids=["own", "shared seed"])
def known(request) -> Known:
    return request.param()


# --- statement files in the real ones' shape --------------------------------------------


def test_a_statement_file(known):
    result = parse_source("statements/statement.txt", known.data)
    assert result.title == known.title
    assert result.published == known.published and type(result.published) is date
    assert result.format == "txt"
    assert result.body_html.count("<p>") == 4 and result.body_html.count("</p>") == 4
    assert result.body_html.startswith(f"<p>{known.first_words}")
    assert result.body_html.endswith(f"{known.last_words}</p>")
    assert "You are currently offline" not in result.source_text
    assert "You are currently offline" not in result.body_html
    assert result.dropped_lines == [CHROME]
    assert result.meta == {}
    assert result.source_text.startswith(known.first_words)
    assert result.title not in result.source_text


@pytest.mark.parametrize(
    "transform",
    [
        lambda b: b.replace(b"\n", b"\r\n"),
        lambda b: b.replace(b"\n", b"\r"),
        lambda b: b"\xef\xbb\xbf" + b,
        lambda b: b + b"\n\n",
        lambda b: b.rstrip(b"\n") + b"\n" + CHROME.upper().encode() + b"\n",
    ],
)
def test_a_statement_file_survives_newlines_bom_and_trailing_blank_lines(known, transform):
    result = parse_source("statements/statement.txt", transform(known.data))
    assert result.title == known.title
    assert result.body_html.count("<p>") == 4
    assert "\r" not in result.source_text
    assert "offline" not in result.body_html


# --- plain text ----------------------------------------------------------------------


def test_txt_paragraphs_line_breaks_and_escaping():
    result = parse("a.txt", "Title\n\n7 January 2022\n\nfirst line\nsecond <b>line</b> & more\n\n\n\nnext")
    assert result.body_html == "<p>first line<br>\nsecond &lt;b&gt;line&lt;/b&gt; &amp; more</p>\n<p>next</p>"
    assert result.source_text == "first line\nsecond <b>line</b> & more\n\n\n\nnext"


def test_txt_place_before_the_date():
    result = parse("a.txt", "Title\n\nCOPENHAGEN, 6 January 2022\n\nText.")
    assert result.published == date(2022, 1, 6)
    assert result.body_html == "<p>Text.</p>"


def test_txt_without_blank_lines_between_title_date_and_body():
    result = parse("a.txt", "Title\n7 January 2022\nText.")
    assert (result.title, result.published, result.body_html) == ("Title", date(2022, 1, 7), "<p>Text.</p>")


def test_txt_with_front_matter():
    text = (
        "---\nid: si-2022-001\nslug: SI-Kazakhstan\ntitle: SI condemns violence\ndate: 2022-01-07\n"
        "lang: en_gb\ntags: [Asia, protests, asia]\ntranslation_of: 42\nsummary: |\n  Short\n  summary.\n"
        "---\nThe text.\n"
    )
    result = parse("a.txt", text)
    assert result.title == "SI condemns violence"
    assert result.published == date(2022, 1, 7)
    assert result.body_html == "<p>The text.</p>"
    assert result.meta == {
        "id": "si-2022-001",
        "slug": "si-kazakhstan",
        "title": "SI condemns violence",
        "date": date(2022, 1, 7),
        "lang": "en-GB",
        "tags": ["Asia", "protests"],
        "translation_of": "42",
        "summary": "Short summary.",
    }


@pytest.mark.parametrize(
    "tags, expected",
    [
        ("a, b ,, c", ["a", "b", "c"]),
        ("[]", []),
        ("[2022, x]", ["2022", "x"]),
        ("single", ["single"]),
    ],
)
def test_tags_are_a_list_of_text(tags, expected):
    result = parse("a.txt", f"---\ntags: {tags}\n---\nT\n\n7 January 2022\n\nx")
    assert result.meta["tags"] == expected


def test_front_matter_title_repeated_on_the_first_line_is_not_body():
    result = parse("a.txt", "---\ntitle: The  title\n---\nthe title\n\n7 January 2022\n\nText.")
    assert result.title == "The title"
    assert result.body_html == "<p>Text.</p>"


def test_front_matter_title_with_a_different_first_line_keeps_that_line():
    result = parse("a.txt", "---\ntitle: Real title\ndate: 2022-01-07\n---\nFirst paragraph.\n\nSecond.")
    assert result.title == "Real title"
    assert result.body_html == "<p>First paragraph.</p>\n<p>Second.</p>"


def test_front_matter_date_settles_an_ambiguous_date_line():
    result = parse("a.txt", "---\ndate: 2022-04-03\n---\nTitle\n\n03/04/2022\n\nText.")
    assert result.published == date(2022, 4, 3)
    assert result.body_html == "<p>Text.</p>"


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2022-01-07T10:30:00+03:00", datetime(2022, 1, 7, 7, 30, tzinfo=UTC)),
        ("2022-01-07 10:30:00", datetime(2022, 1, 7, 7, 30, tzinfo=UTC)),  # naive: in tz
        ("'7 January 2022'", date(2022, 1, 7)),
        ("1er mai 2020", date(2020, 5, 1)),
    ],
)
def test_front_matter_dates(value, expected):
    result = parse("a.txt", f"---\ndate: {value}\n---\nT\n\nx", tz=ZoneInfo("Europe/Moscow"))
    assert result.published == expected == result.meta["date"]


@pytest.mark.parametrize(
    "default, expected",
    [
        (date(2020, 5, 1), date(2020, 5, 1)),
        ("1 May 2020", date(2020, 5, 1)),
        (datetime(2020, 5, 1, 12, 0), datetime(2020, 5, 1, 12, 0, tzinfo=UTC)),
    ],
)
def test_default_date_when_the_file_has_none(default, expected):
    result = parse("a.txt", "Title\n\nJust text.", default_date=default)
    assert result.published == expected
    assert result.body_html == "<p>Just text.</p>"


def test_date_line_wins_over_default_date():
    result = parse("a.txt", "Title\n\n7 January 2022\n\nText.", default_date=date(2000, 1, 1))
    assert result.published == date(2022, 1, 7)


def test_unicode_is_normalized_to_nfc():
    result = parse("a.txt", "Cafe\u0301 statement\n\n7 January 2022\n\nCafe\u0301.")
    assert result.title == "Caf\u00e9 statement"
    assert result.source_text == "Caf\u00e9."


# --- page chrome ---------------------------------------------------------------------


def test_repeated_trailing_chrome_is_dropped_in_order():
    menu = "Back to top"
    text = f"T\n\n7 January 2022\n\nText.\n\n{CHROME}\n  back TO top  \n\n{CHROME}\n"
    result = parse("a.txt", text, drop_lines=(*DEFAULT_DROP_LINES, menu))
    assert result.dropped_lines == [CHROME, "back TO top", CHROME]
    assert result.source_text == "Text."


def test_chrome_in_the_middle_stays():
    result = parse("a.txt", f"T\n\n7 January 2022\n\n{CHROME}\n\nText.")
    assert CHROME in result.body_html and result.dropped_lines == []


def test_no_drop_lines_keeps_everything():
    result = parse("a.txt", f"T\n\n7 January 2022\n\nText.\n\n{CHROME}", drop_lines=())
    assert result.body_html.endswith(f"<p>{CHROME}</p>")


# --- Markdown ------------------------------------------------------------------------


def test_markdown_heading_date_and_body():
    text = (
        "# SI *condemns* violence\n\n7 January 2022\n\nSome **bold** text.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        '~~gone~~ <span class="x">raw</span>\n\n' + CHROME + "\n"
    )
    result = parse("a.md", text)
    assert result.format == "markdown"
    assert result.title == "SI condemns violence"
    assert result.published == date(2022, 1, 7)
    assert "<h1>" not in result.body_html and "7 January" not in result.body_html
    assert "<p>Some <strong>bold</strong> text.</p>" in result.body_html
    assert "<table>" in result.body_html and "<td>2</td>" in result.body_html
    assert "<s>gone</s>" in result.body_html
    assert '<span class="x">raw</span>' in result.body_html  # the caller sanitizes
    assert result.dropped_lines == [CHROME]
    assert result.source_text.startswith("Some **bold** text.")


def test_markdown_setext_heading_and_emphasized_date():
    result = parse("a.markdown", "Declaration\n===========\n\n*25–27 November 2022*\n\nText.")
    assert (result.title, result.published, result.body_html) == (
        "Declaration",
        date(2022, 11, 25),
        "<p>Text.</p>\n",
    )


def test_markdown_front_matter_without_heading():
    result = parse(
        "a.md",
        "---\ntitle: From front matter\ndate: 2022-01-07\n---\n\nText with [a link](https://example.org).",
    )
    assert result.title == "From front matter"
    assert result.body_html == '<p>Text with <a href="https://example.org">a link</a>.</p>\n'


def test_markdown_front_matter_title_and_matching_heading():
    result = parse("a.md", "---\ntitle: Same title\n---\n# Same Title\n\n7 January 2022\n\nText.")
    assert result.body_html == "<p>Text.</p>\n"


def test_markdown_heading_different_from_front_matter_title_stays():
    result = parse("a.md", "---\ntitle: Short title\ndate: 2022-01-07\n---\n# A longer heading\n\nText.")
    assert result.title == "Short title"
    assert result.body_html == "<h1>A longer heading</h1>\n<p>Text.</p>\n"


def test_markdown_arabic_title():
    result = parse("a.md", "# الحزب يدين العنف\n\n2022-01-07\n\nنص البيان.")
    assert result.title == "الحزب يدين العنف"
    assert result.body_html == "<p>نص البيان.</p>\n"


# --- HTML ----------------------------------------------------------------------------


def test_html_document_with_body_h1_and_date_paragraph():
    text = (
        "<!doctype html>\n<html><head><title>Site | Statement</title></head>\n<body>\n"
        "<h1>SI condemns <em>violence</em></h1>\n<p> 7 January 2022 </p>\n<p>First.</p>\n<p>Second.</p>\n"
        f"<p>{CHROME}</p>\n</body>\n</html>\n"
    )
    result = parse("a.html", text)
    assert result.format == "html"
    assert result.title == "SI condemns violence"
    assert result.published == date(2022, 1, 7)
    assert result.body_html == "<p>First.</p>\n<p>Second.</p>"
    assert result.source_text == result.body_html
    assert result.dropped_lines == [f"<p>{CHROME}</p>"]


def test_html_fragment_with_time_element():
    text = (
        '<h1>Title</h1>\n<p class="byline">Issued <time datetime="2022-01-07T10:30:00+03:00">'
        '7 January</time></p>\n<p>Text on <time datetime="2023-05-05">another day</time>.</p>'
    )
    result = parse("a.htm", text)
    assert result.published == datetime(2022, 1, 7, 7, 30, tzinfo=UTC)
    assert result.body_html.startswith('<p class="byline">')  # a byline is content, not a date line


def test_html_title_element_when_there_is_no_h1():
    text = (
        "<html><head><title> The &amp; title </title></head><body><p>2022-01-07</p><p>Text.</p></body></html>"
    )
    result = parse("a.html", text)
    assert result.title == "The & title"
    assert result.body_html == "<p>Text.</p>"


def test_html_with_front_matter():
    text = "---\ntitle: Front\ndate: 7 January 2022\nlang: RU\n---\n<p>Текст заявления.</p>"
    result = parse("a.html", text)
    assert (result.title, result.published, result.meta["lang"]) == ("Front", date(2022, 1, 7), "ru")
    assert result.body_html == "<p>Текст заявления.</p>"


# --- Cyrillic ------------------------------------------------------------------------


def test_cyrillic_title_and_russian_date():
    result = parse("a.txt", "Социнтерн осуждает насилие в Казахстане\n\nМосква, 7 января 2022 г.\n\nТекст.")
    assert result.title == "Социнтерн осуждает насилие в Казахстане"
    assert result.published == date(2022, 1, 7)
    assert result.body_html == "<p>Текст.</p>"


# --- errors --------------------------------------------------------------------------


def test_source_error_names_file_and_line():
    error = error_of("x.txt", "Title\n\nHello\n\nMore.")
    assert isinstance(error, ValueError)
    assert (error.path, error.line) == ("statements/x.txt", 3)
    assert str(error).startswith('statements/x.txt, line 3: no date found ("Hello"): add a date line')
    assert "--date" in str(error)


@pytest.mark.parametrize(
    "name, data, line, fragment",
    [
        ("bad.txt", b"Title\n\n7 January 2022\n\nok \xff here", 5, "not UTF-8 (byte 0xff)"),
        ("bad.txt", b"Title\r\n\r\n7 January 2022\r\n\r\n\xc3(", 5, "not UTF-8"),
        ("bad.txt", b"\xef\xbb\xbfTitle\n\xe2\x82", 2, "not UTF-8"),
        ("empty.txt", b"", 1, "no title found"),
        ("blank.txt", b"\n  \n", 1, "no title found"),
        ("only.txt", CHROME.encode(), 1, "no title found"),
        ("x.md", b"Just a paragraph\n\n7 January 2022\n\nText.", 1, "'# Title'"),
        ("x.html", b"<body>\n<p>Only text.</p>\n</body>", 1, "no title found"),
        ("x.md", b"# Title\n\nNot a date.\n\nText.", 3, 'no date found ("Not a date.")'),
        ("x.html", b"<h1>T</h1>\n\n<p>No date.</p>", 3, 'no date found ("No date.")'),
        ("x.txt", b"Title only", 1, "no date found after the title"),
        ("x.txt", b"Title\n\n03/04/2022\n\nText.", 3, "could be 3 April or 4 March"),
        ("x.txt", b"Title\n\n31 February 2022\n\nText.", 3, "not a real date"),
        ("x.txt", ("Title\n\n7 January 2022\n\n" + CHROME).encode(), 3, "no text after its title and date"),
        ("x.md", b"# Title\n\n7 January 2022\n", 3, "no text"),
        ("x.html", b"<h1>T</h1>\n<p>7 January 2022</p>\n<div> </div>", 2, "no text"),
        ("x.txt", b"---\ntitle: T\n", 1, "never closed"),
        ("x.txt", b"---\n- a\n- b\n---\nT\n\n7 January 2022\n\nx", 2, "must be 'key: value' lines"),
        ("x.txt", b"---\ntitle: T\nauthor: Me\n---\nx", 3, "unknown front matter key 'author'"),
        ("x.txt", b"---\ntitle: [unclosed\n---\nx", 2, "not valid YAML"),
        ("x.txt", b"---\ntitle: T\ndate: 03/04/2022\n---\nx", 3, "front matter date: 03/04/2022 could be"),
        ("x.txt", b"---\ntitle: T\ndate: 2022-02-31\n---\nx", 3, "day is out of range"),
        ("x.txt", b"---\ntitle: T\ndate: 2022\n---\nx", 3, "2022 is not a date"),
        ("x.txt", b"---\ntitle: T\ndate: soon\n---\nx", 3, "no date found"),
        ("x.txt", b"---\ntitle: T\nlang: English\n---\nx", 3, "not a language tag"),
        ("x.txt", b"---\nslug: a b\n---\nx", 2, "cannot be part of an address"),
        ("x.txt", b"---\ntags: {a: 1}\n---\nx", 2, "must be a list"),
        ("x.txt", b"---\ntitle: [a, b]\n---\nx", 2, "front matter title: must be text"),
        ("x.txt", b"---\ntitle: '  '\n---\nx", 2, "is empty"),
        ("x.txt", b"---\ntitle: T\n---\n\n", 4, "no date found after the title"),
        ("x.txt", b"---\ntitle: T\ndate: 2022-01-07\n---\n", 5, "no text"),
    ],
)
def test_errors(name, data, line, fragment):
    error = error_of(name, data)
    assert error.line == line
    assert fragment in str(error)
    assert str(error).startswith(f"statements/{name}, line {line}: ")


def test_unsupported_file_type():
    error = error_of("x.docx", b"whatever")
    assert error.line is None
    assert (
        str(error)
        == "statements/x.docx: unsupported file type '.docx': name it .txt, .md, .markdown, .html or .htm"
    )


def test_bad_default_date_is_a_source_error():
    assert "no date found" in str(error_of("x.txt", "Title\n\nText.", default_date="later"))
    assert "not a date" in str(error_of("x.txt", "Title\n\nText.", default_date=20220107))


# --- the record as a whole -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, text",
    [
        ("a.txt", "T\n\n7 January 2022\n\nA\nB\n\nC"),
        ("a.md", "# T\n\n7 January 2022\n\n- a\n- b\n"),
        ("a.html", "<h1>T</h1><p>7 January 2022</p><ul><li>a</li></ul>"),
    ],
)
def test_source_text_renders_to_body_html(name, text):
    first = parse(name, text)
    again = parse(name, f"---\ntitle: T\ndate: 2022-01-07\n---\n{first.source_text}")
    assert again.body_html == first.body_html
    assert again.source_text == first.source_text
