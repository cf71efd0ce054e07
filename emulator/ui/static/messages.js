// One message as an RCS client shows it: text, files, rich cards, carousels, chips. Message
// content enters the page through textContent and attributes only, never as markup.

// Plain symbols every font has (a demo machine may have no emoji font).
export const ICONS = { reply: "\u21a9", url: "\u2197", dial: "\u260e", map: "\u25c9",
                       calendar: "\u25a6", share_location: "\u25ce" };

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

// Only web addresses become links or media sources: never javascript:, data: or the like.
function webUrl(value) {
  return typeof value === "string" && /^https?:\/\//i.test(value) ? value : null;
}

const EXTENSIONS = { image: /\.(png|jpe?g|gif)$/i, video: /\.(mp4|m4v|m4p|webm|mpe?g|h263)$/i,
                     audio: /\.(aac|mp3|ogx|ogg|3gp)$/i };

export function mediaKind(type, url) {
  const t = (type || "").toLowerCase();
  if (t.startsWith("image/")) return "image";
  if (t.startsWith("video/")) return "video";
  if (t.startsWith("audio/") || t === "application/ogg") return "audio";
  if (!t && url) {
    const path = url.split(/[?#]/)[0];
    for (const [kind, pattern] of Object.entries(EXTENSIONS)) if (pattern.test(path)) return kind;
  }
  return "file";
}

function humanSize(bytes) {
  if (typeof bytes !== "number" || !Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// What a media source could not show (no network in the demo room, a dead link) still says
// what it was.
function placeholder(media) {
  return el("span", "placeholder", `${media.kind}${media.name ? ` \u00b7 ${media.name}` : ""}`);
}

// media: {url, kind, name, type, size, height, poster}
export function mediaNode(media) {
  const box = el("div", `media ${media.height || ""}`.trim());
  box.dataset.mediaKind = media.kind;
  if (!media.url) {
    box.append(placeholder(media));
  } else if (media.kind === "image") {
    const img = el("img");
    img.alt = media.name || "image";
    img.addEventListener("error", () => img.replaceWith(placeholder(media)));
    img.src = media.url;
    box.append(img);
  } else if (media.kind === "video" || media.kind === "audio") {
    const player = el(media.kind);
    player.controls = true;
    player.preload = "metadata";
    if (media.poster) player.poster = media.poster;
    player.src = media.url;
    box.append(player);
    if (media.kind === "audio") box.append(el("span", "name", media.name || ""));
  } else {
    const link = el("a", "document", `\u25a4 ${media.name || "file"}`);
    link.href = media.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    box.append(link, el("span", "meta", [media.type, humanSize(media.size)].filter(Boolean).join(" \u00b7 ")));
  }
  return box;
}

// Both providers' cards in one shape. `files` maps Generic fileIds to their records.
export function cardsOf(message, files) {
  const c = message.content || {};
  const raw = c.richCardContent ? [c.richCardContent]
    : (c.carouselContent && c.carouselContent.richCardContents) || c.cards || [];
  return raw.map((card) => {
    const media = card.media || {};
    const layout = card.layout || {};
    const file = card.fileId ? files.get(card.fileId) : null;
    const url = file ? file.url : webUrl(card.fileUrl || media.url);
    const type = file ? file.mime : media.type || "";
    const height = card.height || media.height;
    return {
      title: card.title, description: card.description,
      media: (url || card.fileId) ? {
        url, type, kind: mediaKind(type, url), name: file ? file.name : card.title,
        height: (height || "MEDIUM").toLowerCase(), poster: webUrl(media.thumbnail),
      } : null,
      orientation: (card.orientation || layout.cardOrientation || "VERTICAL").toLowerCase(),
      align: (card.thumbnailImageAlignment || layout.imageAlignment || "LEFT").toLowerCase(),
    };
  });
}

// `act` is null for chips a client no longer offers: shown, but not tappable.
function chipsNode(chips, act) {
  const row = el("div", "chips");
  for (const chip of chips) {
    const button = el("button", "chip");
    button.type = "button";
    button.append(el("span", "icon", ICONS[chip.kind] || ""), el("span", "label", chip.label));
    button.dataset.postback = chip.postback;
    button.dataset.action = chip.kind;
    button.title = chip.target ? `${chip.kind}: ${chip.target}` : chip.kind;
    if (act) {
      button.addEventListener("click", () => act({ postback: chip.postback }));
    } else {
      button.disabled = true;
      button.title += " (a client offers these only under the newest message)";
    }
    row.append(button);
  }
  return row;
}

function cardNode(message, card, index, act) {
  const node = el("div", `card ${card.orientation} ${card.align}`);
  node.dataset.index = String(index);
  if (card.media) node.append(mediaNode(card.media));
  const body = el("div", "body");
  if (card.title) body.append(el("div", "title", card.title));
  if (card.description) body.append(el("div", "description", card.description));
  const chips = message.suggestions.filter((s) => s.card === index);
  if (chips.length) body.append(chipsNode(chips, act));
  node.append(body);
  return node;
}

function fileMedia(content) {
  const file = content.file || content.audio || {};
  const url = webUrl(file.url);
  return { url, type: file.type || "", kind: mediaKind(file.type, url), name: file.name,
           size: file.size, poster: null, height: "" };
}

// `act(body)` acts as the user on this message (a tap). Chips under the message itself are
// offered only while it is the newest (`newest`), as RCS clients do; chips inside cards stay.
export function agentBubble(message, files, act, newest) {
  const sms = message.channel === "SMS";
  const bubble = el("div", `bubble agent kind-${message.kind}${sms ? " sms" : ""}`);
  bubble.dataset.messageId = message.id;
  bubble.dataset.kind = message.kind;
  bubble.dataset.status = message.status;
  const content = message.content || {};
  const cards = cardsOf(message, files);
  if (message.kind === "carousel") {
    const width = ((content.carouselContent && content.carouselContent.cardWidth)
      || content.card_width || "MEDIUM").toLowerCase();
    const row = el("div", `carousel ${width}`);
    cards.forEach((card, i) => row.append(cardNode(message, card, i, act)));
    bubble.append(row);
  } else if (message.kind === "richcard") {
    bubble.append(cardNode(message, cards[0] || {}, 0, act));
  } else if (message.kind === "file" || message.kind === "audio") {
    bubble.append(mediaNode(fileMedia(content)));
  } else {
    bubble.append(el("div", "text", message.text));
  }
  const global = message.suggestions.filter((s) => s.card === null);
  if (global.length) bubble.append(chipsNode(global, newest ? act : null));
  const status = el("div", "status", `${sms ? "SMS \u00b7 " : ""}${message.status} \u00b7 ${message.created.slice(11, 19)}`);
  bubble.append(status);
  return bubble;
}

// What the user did (typed, tapped) as bubbles on the user's side, each with its time.
export function userBubbles(message) {
  return message.events
    .filter((e) => e.inbound && (e.text !== null || e.postback !== null))
    .map((e) => {
      const bubble = el("div", `bubble user event-${e.type}`);
      // A tap shows as the chip's label, the way a client echoes it.
      const chip = message.suggestions.find((s) => s.postback === e.postback);
      bubble.append(el("div", "text", e.text !== null ? e.text : chip ? chip.label : e.postback));
      bubble.append(el("div", "status", `${e.type} \u00b7 ${e.time.slice(11, 19)}`));
      return { time: e.time, node: bubble };
    });
}
