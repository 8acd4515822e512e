"""Tests for bulletin.dates: the date forms real statements carry."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulletin.statements.dates import ENGLISH_MONTHS, DateError, looks_like_date, parse_date

UTC = UTC
MOSCOW = ZoneInfo("Europe/Moscow")  # UTC+3 all year since 2014


@pytest.mark.parametrize(
    "text, expected",
    [
        # the seed's own form and the other common shapes
        ("7 January 2022", date(2022, 1, 7)),
        ("January 10, 2022", date(2022, 1, 10)),
        ("2022-01-07", date(2022, 1, 7)),
        ("07.01.2022", date(2022, 1, 7)),
        ("7.1.2022", date(2022, 1, 7)),
        ("2016/11/30", date(2016, 11, 30)),
        ("2016.11.30", date(2016, 11, 30)),
        # a place, weekday or label before the date
        ("COPENHAGEN, 6 January 2022", date(2022, 1, 6)),
        ("(Moscow, March 14, 2011)", date(2011, 3, 14)),
        ("Geneva, Switzerland, 6 January 2022", date(2022, 1, 6)),
        ("Monday, 10 January 2022", date(2022, 1, 10)),
        ("Published: 2022-01-07", date(2022, 1, 7)),
        # ordinals
        ("1st FEBRUARY 2021", date(2021, 2, 1)),
        ("22nd March 2020", date(2020, 3, 22)),
        ("3rd May 2021", date(2021, 5, 3)),
        ("4th July 2020", date(2020, 7, 4)),
        ("March 22nd, 2020", date(2020, 3, 22)),
        # ranges: the first day
        ("25-27 November 2022", date(2022, 11, 25)),
        ("25\u201327 November 2022", date(2022, 11, 25)),
        ("November 25-27, 2022", date(2022, 11, 25)),
        # case and abbreviations
        ("7 JANUARY 2022", date(2022, 1, 7)),
        ("7 january 2022", date(2022, 1, 7)),
        ("Jan 7, 2022", date(2022, 1, 7)),
        ("7 Jan. 2022", date(2022, 1, 7)),
        ("Sept. 5, 2022", date(2022, 9, 5)),
        ("5 Sep 2022", date(2022, 9, 5)),
        ("Dec 31, 1999", date(1999, 12, 31)),
        # Spanish
        ("21 Octubre 2004", date(2004, 10, 21)),
        ("21 de octubre de 2004", date(2004, 10, 21)),
        ("3 de enero del 2020", date(2020, 1, 3)),
        ("MADRID, 14 de febrero de 2019", date(2019, 2, 14)),
        # French, accents optional
        ("10 SEPTEMBRE 2018", date(2018, 9, 10)),
        ("1er mai 2020", date(2020, 5, 1)),
        ("3 février 2020", date(2020, 2, 3)),
        ("3 fevrier 2020", date(2020, 2, 3)),
        ("15 août 2020", date(2020, 8, 15)),
        ("15 aout 2020", date(2020, 8, 15)),
        ("25 décembre 2020", date(2020, 12, 25)),
        ("PARIS, 25 DÉCEMBRE 2020", date(2020, 12, 25)),
        # Russian, genitive and nominative, with the year suffix
        ("1 мая 2020", date(2020, 5, 1)),
        ("1 мая 2020 г.", date(2020, 5, 1)),
        ("12 декабря 2021 года", date(2021, 12, 12)),
        ("Москва, 9 МАРТА 2022 г.", date(2022, 3, 9)),
        ("5 сентября 2019", date(2019, 9, 5)),
        ("20 июня 2018", date(2018, 6, 20)),
        # trailing text after a separator is ignored
        ("7 January 2022 \u2014 Statement", date(2022, 1, 7)),
        ("7 January 2022 | Press release", date(2022, 1, 7)),
        ("7 January 2022.", date(2022, 1, 7)),
        ("  7 January 2022  ", date(2022, 1, 7)),
    ],
)
def test_reads_calendar_dates(text, expected):
    result = parse_date(text, MOSCOW)
    assert result == expected
    assert type(result) is date  # never a datetime, never shifted by the zone
    assert looks_like_date(text)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2022-01-07T10:30:00Z", datetime(2022, 1, 7, 10, 30, tzinfo=UTC)),
        ("2022-01-07T10:30Z", datetime(2022, 1, 7, 10, 30, tzinfo=UTC)),
        ("2022-01-07T10:30:00+03:00", datetime(2022, 1, 7, 7, 30, tzinfo=UTC)),
        ("2022-01-07T10:30+0300", datetime(2022, 1, 7, 7, 30, tzinfo=UTC)),
        ("2022-01-07T01:30:00-05:00", datetime(2022, 1, 7, 6, 30, tzinfo=UTC)),
        ("2022-01-07T10:30:15.250Z", datetime(2022, 1, 7, 10, 30, 15, 250000, tzinfo=UTC)),
        # naive timestamps are in the given zone (Moscow, UTC+3)
        ("2022-01-07T10:30", datetime(2022, 1, 7, 7, 30, tzinfo=UTC)),
        ("2022-01-07 10:30:00", datetime(2022, 1, 7, 7, 30, tzinfo=UTC)),
        ("2022-01-07T01:00", datetime(2022, 1, 6, 22, 0, tzinfo=UTC)),
    ],
)
def test_reads_instants_as_aware_utc(text, expected):
    result = parse_date(text, MOSCOW)
    assert result == expected
    assert result.tzinfo is UTC


def test_naive_timestamp_follows_the_zone_given():
    assert parse_date("2022-07-01T12:00", ZoneInfo("Europe/Paris")) == datetime(2022, 7, 1, 10, tzinfo=UTC)
    assert parse_date("2022-07-01T12:00", UTC) == datetime(2022, 7, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13/04/2022", date(2022, 4, 13)),  # only day/month is possible
        ("04/13/2022", date(2022, 4, 13)),  # only month/day is possible
        ("05/05/2022", date(2022, 5, 5)),  # both readings agree
        ("03.04.2022", date(2022, 4, 3)),  # dots: European day.month.year
        ("2022/03/04", date(2022, 3, 4)),  # year first is never ambiguous
    ],
)
def test_numeric_dates_that_read_one_way(text, expected):
    assert parse_date(text, UTC) == expected


@pytest.mark.parametrize("text", ["03/04/2022", "03-04-2022"])
def test_ambiguous_dates_are_refused_with_a_fix(text):
    with pytest.raises(DateError) as error:
        parse_date(text, UTC)
    message = str(error.value)
    assert message == (
        f"{text} could be 3 April or 4 March: write 2022-04-03 or add a date: line in front matter"
    )
    assert looks_like_date(text)  # so that callers report this, not "no date"


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("31 February 2022", "February 2022 has no day 31"),
        ("29 February 2021", "February 2021 has no day 29"),
        ("31.04.2022", "April 2022 has no day 31"),
        ("2022-13-01", "there is no month 13"),
        ("2022-00-10", "there is no month 0"),
        ("32 January 2022", "January 2022 has no day 32"),
        ("2022-01-07T25:00Z", "not a real time"),
        ("2022-01-07T10:61Z", "not a real time"),
        ("2022-01-07T10:00+03:75", "not a real time"),
    ],
)
def test_impossible_dates_are_errors(text, fragment):
    with pytest.raises(DateError, match=fragment):
        parse_date(text, UTC)
    assert looks_like_date(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Hello",
        "SI condemns violence in Kazakhstan",
        "2022",
        "January 2022",
        "7 Smarch 2022",
        "03/04/22",
        "On 7 January 2022",
        "Statement issued 7 January 2022",
    ],
)
def test_text_without_a_date_is_an_error(text):
    with pytest.raises(DateError, match="no date found"):
        parse_date(text, UTC)
    assert not looks_like_date(text)


@pytest.mark.parametrize(
    "text",
    [
        "7 January 2022 was the day the networks went dark across the whole country",
        "7 January 2022 Statement",
        "7 January 2022 \u2014 the day the networks went dark across the whole country",
    ],
)
def test_a_sentence_starting_with_a_date_is_not_a_date_line(text):
    with pytest.raises(DateError, match="unexpected text after the date"):
        parse_date(text, UTC)
    assert not looks_like_date(text)


def test_date_error_is_a_value_error():
    assert issubclass(DateError, ValueError)


@given(st.dates())
def test_formatted_dates_round_trip(day):
    month = ENGLISH_MONTHS[day.month - 1]
    for text in (
        f"{day.day} {month} {day.year:04d}",
        day.isoformat(),
        f"{day.day:02d}.{day.month:02d}.{day.year:04d}",
        f"{month} {day.day}, {day.year:04d}",
    ):
        assert parse_date(text, UTC) == day, text
        assert looks_like_date(text)


@given(st.text(max_size=80))
def test_any_text_gives_a_date_or_a_date_error(text):
    looks_like_date(text)  # never raises
    try:
        result = parse_date(text, MOSCOW)
    except DateError:
        return
    assert isinstance(result, date)
    assert not isinstance(result, datetime) or result.tzinfo is UTC


def test_error_messages_quote_long_text_briefly():
    with pytest.raises(DateError) as error:
        parse_date("Hello " * 100, UTC)
    assert len(str(error.value)) < 150
