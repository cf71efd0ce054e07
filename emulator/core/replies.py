"""What a fake customer types back (a scenario's `message` step with no text): in the language
of the message it answers, about what that message is about, never contradicting itself.

The language is read from the message's own words (the languages a reply can be written in, by
their most common words and letters), else from the phone's country code, else English. The
topic is the message's: a rich card or carousel (a product shown), an order (its parcel, its
delivery), an offer (a discount, a sale), a question (the message asks something), or anything
else. Each reply is one whole sentence written for its language and topic (never an opening
glued to an unrelated request); place names come from Faker's locale of that language, so a
Swedish customer asks about Nyköping, not Kraków. Drawn from the generator given, so a seeded
run repeats itself."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from faker import Faker

from .records import Message


class Language(StrEnum):
    ENGLISH = "en"
    POLISH = "pl"
    SWEDISH = "sv"
    GERMAN = "de"


class Topic(StrEnum):
    CARD = "card"  # a rich card or carousel: a product shown
    ORDER = "order"
    OFFER = "offer"
    QUESTION = "question"
    OTHER = "other"


# The most common words of each language (and a few a business message uses), lower case.
_WORDS: dict[Language, frozenset[str]] = {
    Language.ENGLISH: frozenset(
        "the and is are your you to for of we our has have with on in it this that be will i my "
        "me yes no please how when where what much do does could would not thank any all more "
        "about there here if or so at by from up out us which who dear questions help need "
        "today now thanks thank hello hi order offer card question was can new get off just".split()
    ),
    Language.POLISH: frozenset(
        "w z na się jest nie do że to dla twoje twoja twój twoich już czy jak mamy tylko mogę "
        "możecie proszę mi co kiedy gdzie ile moje jeszcze teraz może "
        "dziś dzisiaj jutro dzień dobry dziękujemy zamówienie zamówienia paczka przesyłka "
        "oferta rabat pytanie karta cześć witaj został została zostało są od po tak".split()
    ),
    Language.SWEDISH: frozenset(
        "och att det är en ett för på med din ditt dina vi har inte som till kan nu idag hej "
        "ni när jag mig kvar finns vad hur gäller också även nej andra den så bra ut fler mer "
        "tack erbjudande beställning paket fråga kort har skickats vår våra från om av".split()
    ),
    Language.GERMAN: frozenset(
        "und der die das ist nicht ein eine für mit ihr ihre ihren wir sie auf zu heute jetzt "
        "ich gibt es noch was wie wann können gerne nein mir vielen dank bitte "
        "danke hallo bestellung angebot paket frage karte wurde unser unsere von bei".split()
    ),
}
# Letters only some of them write: each found counts as much as a common word.
_LETTERS: dict[Language, str] = {
    Language.POLISH: "ąćęłńśźż",
    Language.SWEDISH: "å",
    Language.GERMAN: "ßü",
}
_SHARED_LETTERS = {
    "ä": (Language.SWEDISH, Language.GERMAN),
    "ö": (Language.SWEDISH, Language.GERMAN),
}
# The phone's country when the words say nothing (a message of links and numbers).
_COUNTRIES = {
    "+48": Language.POLISH,
    "+46": Language.SWEDISH,
    "+49": Language.GERMAN,
    "+43": Language.GERMAN,
    "+41": Language.GERMAN,
}
_LOCALES = {
    Language.ENGLISH: "en_GB",
    Language.POLISH: "pl_PL",
    Language.SWEDISH: "sv_SE",
    Language.GERMAN: "de_DE",
}

# Stems that name a topic, in any of the languages (matched at a word's start).
_ORDER = (
    "order",
    "parcel",
    "package",
    "deliver",
    "shipped",
    "shipping",
    "tracking",
    "courier",
    "zamówien",
    "paczk",
    "przesyłk",
    "dostaw",
    "kurier",
    "wysłan",
    "beställning",
    "paket",
    "leverans",
    "skickad",
    "spårning",
    "bestellung",
    "lieferung",
    "versand",
    "sendung",
    "zustell",
)
_OFFER = (
    "offer",
    "discount",
    "sale",
    "promo",
    "deal",
    "coupon",
    "voucher",
    "oferta",
    "ofert",
    "rabat",
    "promocj",
    "zniżk",
    "okazj",
    "kupon",
    "erbjudande",
    "rabatt",
    "rea",
    "kampanj",
    "angebot",
    "aktion",
    "gutschein",
    "reduziert",
    "prozent",
)
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

# {city}: a place of the language's country (Faker); {title}: the card's title.
_REPLIES: dict[Language, dict[Topic, tuple[str, ...]]] = {
    Language.ENGLISH: {
        Topic.CARD: (
            'Is "{title}" still in stock?',
            'How much is "{title}" with delivery?',
            'Does "{title}" come in other sizes?',
            'I\'ll take "{title}", how do I order?',
            'Looks good. Can I see more photos of "{title}"?',
        ),
        Topic.ORDER: (
            "When will my order arrive?",
            "Can I change the delivery address?",
            "Where can I find the tracking number?",
            "Can you deliver it to {city}?",
            "I'd like to pick it up myself in {city}.",
            "The parcel hasn't come yet.",
        ),
        Topic.OFFER: (
            "Is the discount valid online too?",
            "Until when is the offer on?",
            "Does the offer apply to delivery in {city}?",
            "Please stop sending me offers.",
            "Thanks, I'll have a look tonight.",
        ),
        Topic.QUESTION: (
            "Yes, please.",
            "No, thank you.",
            "Yes, that works for me.",
            "Not now, maybe next week.",
            "Could you call me back after 5 pm?",
        ),
        Topic.OTHER: (
            "Thanks!",
            "OK, thanks for letting me know.",
            "Great, thank you.",
            "Can you send me the invoice?",
            "What time do you open tomorrow in {city}?",
        ),
    },
    Language.POLISH: {
        Topic.CARD: (
            "Czy „{title}” jest jeszcze dostępne w sklepie?",
            "Ile kosztuje „{title}” z dostawą?",
            "Czy „{title}” jest w innych rozmiarach?",
            "Biorę „{title}”, jak mogę zamówić?",
            "Wygląda dobrze. Czy mogę zobaczyć więcej zdjęć „{title}”?",
        ),
        Topic.ORDER: (
            "Kiedy dotrze moje zamówienie?",
            "Czy mogę zmienić adres dostawy?",
            "Gdzie znajdę numer przesyłki?",
            "Czy możecie dostarczyć do miejscowości {city}?",
            "Odbiorę zamówienie osobiście w mieście {city}.",
            "Paczka jeszcze nie dotarła.",
        ),
        Topic.OFFER: (
            "Czy rabat działa też w sklepie internetowym?",
            "Do kiedy obowiązuje oferta?",
            "Czy oferta obejmuje dostawę do miejscowości {city}?",
            "Proszę nie wysyłać mi więcej ofert.",
            "Dziękuję, przejrzę wieczorem.",
        ),
        Topic.QUESTION: (
            "Tak, poproszę.",
            "Nie, dziękuję.",
            "Tak, to mi pasuje.",
            "Nie teraz, może w przyszłym tygodniu.",
            "Proszę zadzwonić po 17.",
        ),
        Topic.OTHER: (
            "Dziękuję!",
            "Dobrze, dzięki za informację.",
            "Super, dziękuję.",
            "Czy mogę prosić o fakturę?",
            "O której otwieracie jutro sklep w mieście {city}?",
        ),
    },
    Language.SWEDISH: {
        Topic.CARD: (
            "Finns ”{title}” kvar i lager?",
            "Vad kostar ”{title}” med frakt?",
            "Finns ”{title}” i andra storlekar?",
            "Jag tar ”{title}”, hur beställer jag?",
            "Ser bra ut. Finns det fler bilder på ”{title}”?",
        ),
        Topic.ORDER: (
            "När kommer min beställning?",
            "Kan jag ändra leveransadressen?",
            "Var hittar jag spårningsnumret?",
            "Kan ni leverera till {city}?",
            "Jag hämtar den själv i {city}.",
            "Paketet har inte kommit än.",
        ),
        Topic.OFFER: (
            "Gäller rabatten även på nätet?",
            "Hur länge gäller erbjudandet?",
            "Gäller erbjudandet även leverans till {city}?",
            "Sluta skicka erbjudanden till mig, tack.",
            "Tack, jag tittar i kväll.",
        ),
        Topic.QUESTION: (
            "Ja, tack.",
            "Nej tack.",
            "Ja, det passar mig.",
            "Inte nu, kanske nästa vecka.",
            "Kan ni ringa mig efter klockan 17?",
        ),
        Topic.OTHER: (
            "Tack!",
            "Okej, tack för beskedet.",
            "Toppen, tack.",
            "Kan ni skicka fakturan till mig?",
            "När öppnar ni i {city} i morgon?",
        ),
    },
    Language.GERMAN: {
        Topic.CARD: (
            "Ist „{title}“ noch auf Lager?",
            "Was kostet „{title}“ mit Versand?",
            "Gibt es „{title}“ auch in anderen Größen?",
            "Ich nehme „{title}“, wie bestelle ich?",
            "Sieht gut aus. Gibt es mehr Fotos von „{title}“?",
        ),
        Topic.ORDER: (
            "Wann kommt meine Bestellung an?",
            "Kann ich die Lieferadresse ändern?",
            "Wo finde ich die Sendungsnummer?",
            "Können Sie nach {city} liefern?",
            "Ich hole sie selbst in {city} ab.",
            "Das Paket ist noch nicht angekommen.",
        ),
        Topic.OFFER: (
            "Gilt der Rabatt auch online?",
            "Wie lange gilt das Angebot?",
            "Gilt das Angebot auch für die Lieferung nach {city}?",
            "Bitte schicken Sie mir keine Angebote mehr.",
            "Danke, ich schaue heute Abend rein.",
        ),
        Topic.QUESTION: (
            "Ja, gerne.",
            "Nein, danke.",
            "Ja, das passt mir.",
            "Jetzt nicht, vielleicht nächste Woche.",
            "Können Sie mich nach 17 Uhr anrufen?",
        ),
        Topic.OTHER: (
            "Danke!",
            "Okay, danke für die Info.",
            "Super, vielen Dank.",
            "Können Sie mir die Rechnung schicken?",
            "Wann öffnen Sie morgen in {city}?",
        ),
    },
}
TITLE_LIMIT = 40  # a longer card title is cut (with an ellipsis) where a customer quotes it


@dataclass(frozen=True, slots=True)
class Gist:
    """What a reply needs to know of the message it answers."""

    texts: tuple[str, ...]  # its text, card titles and descriptions, chip labels
    phone: str
    card_title: str | None = None  # the (first) card's title, for a message that shows cards


def gist_of(message: Message, display: Mapping[str, Any]) -> Gist:
    """The gist of a message as a client lays it out (`display`, core.display's shape)."""
    cards = display.get("cards") or []
    texts = [message.text, *(s.label for s in message.suggestions)]
    for card in cards:
        texts += [card.get("title") or "", card.get("description") or ""]
    title = next((c["title"] for c in cards if c.get("title")), None)
    return Gist(tuple(t for t in texts if t), message.phone, title)


def language_of(texts: Iterable[str], phone: str = "") -> Language:
    """The language these words are most likely in, among those a reply can be written in;
    the phone's country decides when the words do not (and English when it does not either)."""
    scores = dict.fromkeys(Language, 0)
    for text in texts:
        lowered = text.lower()
        for word in _WORD.findall(lowered):
            for language, common in _WORDS.items():
                scores[language] += word in common
        for language, letters in _LETTERS.items():
            scores[language] += sum(lowered.count(letter) for letter in letters)
        for letter, languages in _SHARED_LETTERS.items():
            for language in languages:
                scores[language] += lowered.count(letter)
    best = max(scores.values())
    leaders = [language for language, score in scores.items() if score == best]
    if best and len(leaders) == 1:
        return leaders[0]
    by_phone = next((lang for code, lang in _COUNTRIES.items() if phone.startswith(code)), None)
    if by_phone is not None and (not best or by_phone in leaders):
        return by_phone
    return leaders[0] if best else Language.ENGLISH


def topic_of(gist: Gist) -> Topic:
    """What the message is about: a card first (the product it shows), then an order, an
    offer, a question it asks."""
    if gist.card_title:
        return Topic.CARD
    words = [w for text in gist.texts for w in _WORD.findall(text.lower())]
    if any(w.startswith(_ORDER) for w in words):
        return Topic.ORDER
    if any(w.startswith(_OFFER) for w in words) or any("%" in t for t in gist.texts):
        return Topic.OFFER
    if any(t.rstrip().endswith("?") for t in gist.texts):
        return Topic.QUESTION
    return Topic.OTHER


@cache
def _faker(language: Language) -> Faker:
    return Faker(_LOCALES[language])


def reply_to(gist: Gist, rng: random.Random) -> str:
    """A customer's reply to this message, drawn from `rng`."""
    language = language_of(gist.texts, gist.phone)
    topic = topic_of(gist)
    template = rng.choice(_REPLIES[language][topic])
    title = (gist.card_title or "").strip()
    if len(title) > TITLE_LIMIT:
        title = title[: TITLE_LIMIT - 1].rstrip() + "\u2026"
    city = ""
    if "{city}" in template:
        fake = _faker(language)
        fake.seed_instance(rng.getrandbits(32))
        city = fake.city()
    return template.format(title=title, city=city)
