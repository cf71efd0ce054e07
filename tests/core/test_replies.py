"""A fake customer's reply (a scenario's `message` step without text) is in the message's own
language and on its topic: pure checks of the language, the topic and the reply, then the reply a
scripted phone types over HTTP."""

from __future__ import annotations

import random

import pytest

from emulator.core.replies import _REPLIES, Gist, Language, Topic, language_of, reply_to, topic_of
from tests.conftest import advance, open_client
from tests.core.test_webhooks import generic_send, serwersms_send

POLISH_LETTERS = set("ąćęłńśźż")


@pytest.mark.parametrize(
    ("text", "phone", "language"),
    [
        ("Twoje zamówienie zostało wysłane, paczka dotrze jutro.", "+46700000000", Language.POLISH),
        ("Cześć! Mamy dla Ciebie rabat 20%.", "", Language.POLISH),
        ("Your order has shipped and will arrive today.", "+48500000000", Language.ENGLISH),
        ("Hej! Din beställning har skickats och är på väg.", "+48500000000", Language.SWEDISH),
        ("Vi har ett erbjudande för dig i helgen.", "", Language.SWEDISH),
        ("Ihre Bestellung wurde heute versandt.", "+46700000000", Language.GERMAN),
        ("Hallo! Unser Angebot für Sie: 20 % Rabatt.", "", Language.GERMAN),
        ("https://shop.example/p/123", "+48500000000", Language.POLISH),  # no words: the country
        ("https://shop.example/p/123", "+46700000000", Language.SWEDISH),
        ("https://shop.example/p/123", "+4930123456", Language.GERMAN),
        ("https://shop.example/p/123", "+15550100", Language.ENGLISH),
    ],
)
def test_the_language_is_the_messages_own_else_the_phones_country(text, phone, language):
    assert language_of([text], phone) is language


@pytest.mark.parametrize(
    ("texts", "title", "topic"),
    [
        (("Twoje zamówienie zostało wysłane.",), None, Topic.ORDER),
        (("Your parcel is on its way",), None, Topic.ORDER),
        (("Din beställning har skickats.",), None, Topic.ORDER),
        (("Ihre Bestellung ist unterwegs.",), None, Topic.ORDER),
        (("Only today: 30% off everything",), None, Topic.OFFER),
        (("Nowa oferta dla Ciebie",), None, Topic.OFFER),
        (("Can we call you tomorrow?", "Yes", "No"), None, Topic.QUESTION),
        (("Winter boots", "Warm and waterproof"), "Winter boots", Topic.CARD),
        (("Hello from the shop",), None, Topic.OTHER),
    ],
)
def test_the_topic_is_a_card_an_order_an_offer_or_a_question(texts, title, topic):
    assert topic_of(Gist(texts, "+46700000000", title)) is topic


def test_every_reply_is_one_whole_sentence_of_its_language_and_topic():
    for language, topics in _REPLIES.items():
        for topic, replies in topics.items():
            assert len(replies) >= 5, (language, topic)
            for reply in replies:
                assert reply[0].isupper() or reply[0] in '„”"', reply
                assert reply.rstrip().endswith((".", "?", "!")), reply
                if language is not Language.POLISH:
                    assert not POLISH_LETTERS & set(reply.lower()), reply
                # and reads as its own language to the same detector that chose it
                assert language_of([reply.format(title="", city="")], "") is language, reply
    # No reply asks to cancel or stop in the same breath as it thanks or agrees.
    for language in _REPLIES:
        for reply in _REPLIES[language][Topic.OFFER]:
            assert not ("stop" in reply.lower() and "thank" in reply.lower()), reply


@pytest.mark.parametrize("language", list(Language))
def test_a_reply_answers_in_the_language_and_on_the_topic_and_repeats_with_its_seed(language):
    samples = {
        Language.ENGLISH: "Your order is on its way",
        Language.POLISH: "Twoje zamówienie jest w drodze",
        Language.SWEDISH: "Din beställning är på väg",
        Language.GERMAN: "Ihre Bestellung ist unterwegs",
    }
    gist = Gist((samples[language],), "+15550100")
    said = [reply_to(gist, random.Random(seed)) for seed in range(40)]
    assert said == [reply_to(gist, random.Random(seed)) for seed in range(40)]
    templates = _REPLIES[language][Topic.ORDER]
    for reply in said:
        assert any(_fits(template, reply) for template in templates), reply
    places = [r for r in said if not any(r == t for t in templates)]
    assert places, "some replies name a place"
    if language is not Language.POLISH:
        assert not any(POLISH_LETTERS & set(r.lower()) for r in places), places


def test_a_card_reply_quotes_the_cards_title_cut_when_long():
    gist = Gist(("Winter boots",), "+46700000000", "Winter boots")
    assert "”Winter boots”" in reply_to(gist, random.Random(1))
    long = Gist(("x",), "+15550100", "A title much longer than anyone would ever quote in a reply")
    quoted = reply_to(long, random.Random(1))
    assert "\u2026" in quoted and "ever quote" not in quoted


def _fits(template: str, reply: str) -> bool:
    head, _, tail = template.partition("{city}")
    return reply == template or (bool(_) and reply.startswith(head) and reply.endswith(tail))


# -- over HTTP: the scripted phone that types a reply ------------------------------------------


@pytest.mark.anyio
async def test_a_scripted_reply_to_a_polish_order_is_polish_and_to_a_swedish_card_swedish():
    async with open_client("asgi") as client:
        await serwersms_send(client, "+48100000005", text="Twoje zamówienie zostało wysłane.")
        card = {
            "title": "Vinterkängor",
            "description": "Varma och vattentäta",
            "fileUrl": "https://x.example/k.png",
        }
        await generic_send(
            client, "+46700000005", messageType="RichCard", richCardContent=card, text=None
        )
        await advance(client, 60)
        typed = {}
        for m in (await client.get("/_emulator/messages")).json()["items"]:
            [reply] = [e["text"] for e in m["events"] if e["type"] == "message"]
            typed[m["phone"]] = reply
    polish = _REPLIES[Language.POLISH][Topic.ORDER]
    assert any(_fits(t, typed["+48100000005"]) for t in polish), typed
    swedish = [t.format(title="Vinterkängor") for t in _REPLIES[Language.SWEDISH][Topic.CARD]]
    assert typed["+46700000005"] in swedish, typed
