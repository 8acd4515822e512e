"""Tests for bulletin.langdetect, on short statement-like texts written for these tests."""

import pytest
from conftest import STATEMENT_FILES, shared_seeds

from bulletin.statements.languages import RTL_LANGUAGES, detect_language, text_direction

SAMPLES = {
    "en": "The party calls on the government to release all political prisoners and to "
    "restore access to the internet without delay. Our members have been detained for weeks.",
    "es": "El partido condena la violencia contra los manifestantes y pide al gobierno que respete "
    "el derecho a la protesta pacífica. La libertad de expresión no es negociable.",
    "fr": "Le parti condamne la violence contre les manifestants et demande au gouvernement de "
    "respecter le droit de manifester. Nous sommes solidaires avec les familles des victimes.",
    "de": "Die Partei verurteilt die Gewalt gegen die Demonstranten und fordert die Regierung auf, "
    "das Recht auf friedlichen Protest zu achten. Wir sind mit den Familien der Opfer solidarisch.",
    "pt": "O partido condena a violência contra os manifestantes e pede ao governo que respeite o "
    "direito ao protesto pacífico. A liberdade de expressão não é negociável.",
    "it": "Il partito condanna la violenza contro i manifestanti e chiede al governo di rispettare "
    "il diritto alla protesta pacifica. La libertà di espressione non è negoziabile.",
    "ar": "يدين الحزب العنف ضد المتظاهرين ويدعو الحكومة إلى احترام حق الاحتجاج السلمي. "
    "إن حرية التعبير ليست قابلة للتفاوض.",
    "fa": "حزب خشونت علیه معترضان را محکوم می‌کند و از دولت می‌خواهد که حق اعتراض مسالمت‌آمیز "
    "را محترم بشمارد. آزادی بیان قابل مذاکره نیست.",
    "ur": "پارٹی مظاہرین کے خلاف تشدد کی مذمت کرتی ہے اور حکومت سے مطالبہ کرتی ہے کہ پرامن "
    "احتجاج کے حق کا احترام کرے۔ اظہار رائے کی آزادی پر کوئی سمجھوتہ نہیں ہو سکتا۔",
    "he": "המפלגה מגנה את האלימות נגד המפגינים וקוראת לממשלה לכבד את הזכות למחאה בדרכי שלום. "
    "חופש הביטוי אינו נתון למשא ומתן.",
    "ru": "Партия осуждает насилие против демонстрантов и призывает правительство уважать право "
    "на мирный протест. Свобода слова не является предметом торга.",
    "uk": "Партія засуджує насильство проти демонстрантів і закликає уряд поважати право на "
    "мирний протест. Свобода слова не є предметом торгу.",
    "bg": "Партията осъжда насилието срещу демонстрантите и призовава правителството да зачита "
    "правото на мирен протест. Свободата на словото не подлежи на преговори.",
    "sr": "Странка осуђује насиље против демонстраната и позива владу да поштује право на мирни "
    "протест. Слобода говора није предмет преговора.",
    "kk": "Партия наразылық білдірушілерге қарсы зорлық-зомбылықты айыптайды және үкіметті "
    "бейбіт наразылық құқығын құрметтеуге шақырады.",
    "be": "Партыя асуджае гвалт супраць дэманстрантаў і заклікае ўрад паважаць права на мірны пратэст.",
    "el": "Το κόμμα καταδικάζει τη βία κατά των διαδηλωτών και καλεί την κυβέρνηση να σεβαστεί "
    "το δικαίωμα στην ειρηνική διαμαρτυρία.",
    "zh": "本党谴责针对抗议者的暴力行为，呼吁政府尊重和平抗议的权利。言论自由不容谈判。",
    "ja": "党は抗議者に対する暴力を非難し、政府に平和的な抗議の権利を尊重するよう求める。",
    "ko": "당은 시위대에 대한 폭력을 규탄하며 정부가 평화적 시위의 권리를 존중할 것을 촉구한다.",
}


@pytest.mark.parametrize("lang", sorted(SAMPLES))
def test_detects_sample(lang):
    assert detect_language(SAMPLES[lang]) == lang


@pytest.mark.parametrize("lang", ["en", "es", "fr", "de", "pt", "it"])
def test_latin_detection_survives_a_title_and_a_date(lang):
    text = f"COPENHAGEN\n\n7 January 2022\n\n{SAMPLES[lang]}"
    assert detect_language(text) == lang


@pytest.mark.parametrize(
    "name, lang", [("port-meridian-dockers.txt", "en"), ("severnye-rayony-svyaz.txt", "ru")]
)
def test_detects_the_language_of_a_whole_statement_file(name, lang):
    assert detect_language((STATEMENT_FILES / name).read_text(encoding="utf-8")) == lang


def test_detects_the_real_seed_statement_as_english():
    assert detect_language(shared_seeds()[0].read_text(encoding="utf-8")) == "en"


def test_a_ukrainian_place_name_does_not_make_russian_ukrainian():
    text = SAMPLES["ru"] + " Делегация прибыла в Київ."
    assert detect_language(text) == "ru"


def test_a_short_quote_does_not_change_the_language():
    text = SAMPLES["en"] + " Their banner read «Свобода»."
    assert detect_language(text) == "en"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "OK",
        "12345 — 2022!",
        "Kazakhstan",
        "Hello world, good morning everybody",
        "in in in in in in",  # English and Italian tie
        "Свобода",
        "حرية",  # too short
    ],
)
def test_unsure_is_none(text):
    assert detect_language(text) is None


def test_is_deterministic():
    assert len({detect_language(SAMPLES["pt"]) for _ in range(5)}) == 1


@pytest.mark.parametrize(
    "lang, direction",
    [
        ("ar", "rtl"),
        ("ar-EG", "rtl"),
        ("AR_eg", "rtl"),
        ("fa", "rtl"),
        ("ur-PK", "rtl"),
        ("he", "rtl"),
        ("yi", "rtl"),
        ("az-Arab", "rtl"),
        ("ku-Arab-IQ", "rtl"),
        ("en", "ltr"),
        ("en-GB", "ltr"),
        ("ru", "ltr"),
        ("zh-Hant-TW", "ltr"),
        ("ug-Latn", "ltr"),
        ("", "ltr"),
    ],
)
def test_text_direction(lang, direction):
    assert text_direction(lang) == direction


def test_rtl_languages():
    assert isinstance(RTL_LANGUAGES, frozenset)
    assert {"ar", "fa", "ur", "he"} <= RTL_LANGUAGES
    assert not {"en", "ru", "el", "zh"} & RTL_LANGUAGES
    for lang in SAMPLES:
        assert (text_direction(lang) == "rtl") == (lang in RTL_LANGUAGES)
