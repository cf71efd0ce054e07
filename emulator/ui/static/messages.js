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

// Text with its web addresses as links that open in a new tab (built as nodes: never markup).
const LINK = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/gi;
export function linkedText(className, text) {
  const node = el("div", className);
  node.dir = "auto"; // Arabic or Hebrew runs right to left, as on a phone
  const value = String(text ?? "");
  let last = 0;
  for (const found of value.matchAll(LINK)) {
    node.append(value.slice(last, found.index));
    const link = el("a", null, found[0]);
    Object.assign(link, { href: found[0], target: "_blank", rel: "noopener noreferrer" });
    node.append(link);
    last = found.index + found[0].length;
  }
  node.append(value.slice(last));
  return node;
}

// Status words a person reads, as a phone's message info would put them.
const STATUS_WORDS = { scheduled: "scheduled", queued: "sending", sent: "sent", delivered: "delivered",
                       read: "read", undelivered: "not delivered", expired: "expired",
                       no_capability: "no RCS", failed: "failed" };
// Statuses of a message that never reached the phone: drawn as such.
export const NEVER_ARRIVED = new Set(["undelivered", "expired", "no_capability", "failed"]);
export function statusWord(message) {
  if (message.channel === "SMS") return `SMS fallback \u00b7 ${STATUS_WORDS[message.status] || message.status}`;
  return STATUS_WORDS[message.status] || message.status;
}

export const timeOf = (iso) => (iso ? iso.slice(11, 19) : "");

// The bubble's footer says what its time is: when the message reached its status ("read at
// 12:01:30"), or when it will be sent.
export function statusLine(message) {
  if (message.status === "scheduled") {
    return `scheduled for ${message.send_at.slice(0, 16).replace("T", " ")} UTC`;
  }
  const reached = [...message.events].reverse().find((e) => e.type === message.status)
    || (message.status === "read" && [...message.events].reverse().find((e) => e.inbound));
  const time = reached ? reached.time : message.created;
  return `${statusWord(message)} ${message.status === "queued" ? "since" : "at"} ${timeOf(time)}`;
}

// What a phone would do on an action chip; the emulator sends the tap's callback, and the page
// says what the phone would have done instead of doing it.
export function wouldDo(chip) {
  const target = chip.target || "";
  switch (chip.kind) {
    case "dial": return `Would dial ${target}`;
    case "url": return `Would open ${target}`;
    case "map": return `Would show the map at ${target}`;
    case "calendar": return `Would add to the calendar: ${target}`;
    case "share_location": return "Would share the phone's location";
    default: return null;
  }
}

export function toast(text, kind) {
  let holder = document.getElementById("toasts");
  if (!holder) {
    holder = el("div", "toasts");
    holder.id = "toasts";
    holder.setAttribute("role", "status");
    document.body.append(holder);
  }
  const note = el("div", `toast${kind ? ` ${kind}` : ""}`, text);
  holder.append(note);
  setTimeout(() => note.remove(), 4000);
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
    const name = el("span", "name", media.name || "");
    // Unplayable here (offline, a codec Chromium lacks): say what it was instead.
    player.addEventListener("error", () => { player.replaceWith(placeholder(media)); name.remove(); });
    player.src = media.url;
    box.append(player);
    if (media.kind === "audio") box.append(name);
  } else {
    const link = el("a", "document", `\u25a4 ${media.name || "file"}`);
    link.href = media.url;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    box.append(link, el("span", "meta", [media.type, humanSize(media.size)].filter(Boolean).join(" \u00b7 ")));
  }
  return box;
}

// A media reference of the message's display layout (the control API's provider-neutral shape)
// as mediaNode draws it; `fileUrl(id)` is where an uploaded file's bytes are.
function mediaOf(media, fileUrl, fallbackName) {
  const url = media.file_id ? fileUrl(media.file_id) : webUrl(media.url);
  return { url, type: media.type || "", kind: mediaKind(media.type, media.url || url),
           name: media.name || fallbackName, size: media.size,
           height: (media.height || "").toLowerCase(), poster: webUrl(media.thumbnail) };
}

// `act` is null for chips that cannot be tapped now (`why`): shown, but disabled. A tap
// closes its row at once (one answer per chip row, as a phone takes it) and keeps the focus on
// the chip tapped (aria-disabled, not disabled: a disabled button drops the focus to the page);
// a tap the emulator refused gives the row back and says why. `keep`: a closed row that stays
// focusable (the newest message's, where a tap leaves the focus).
function chipsNode(message, chips, act, why, keep) {
  const row = el("div", "chips");
  for (const chip of chips) {
    const button = el("button", "chip");
    button.type = "button";
    const icon = el("span", "icon", ICONS[chip.kind] || "");
    icon.setAttribute("aria-hidden", "true");
    const label = el("span", "label", chip.label);
    label.dir = "auto";
    button.append(icon, label);
    button.dataset.postback = chip.postback;
    button.dataset.action = chip.kind;
    button.dataset.focusKey = `chip|${message.id}|${chip.card ?? ""}|${chip.postback}`;
    button.title = chip.target ? `${chip.kind}: ${chip.target}` : chip.kind;
    if (act) {
      button.addEventListener("click", async (event) => {
        event.stopPropagation(); // a tap, not a click on the message (which opens its details)
        if (button.getAttribute("aria-disabled") === "true") return;
        const answer = chip.kind === "reply";
        const buttons = [...row.querySelectorAll("button")];
        if (answer) for (const b of buttons) b.setAttribute("aria-disabled", "true");
        const would = wouldDo(chip);
        if (would) toast(would);
        try {
          await act({ postback: chip.postback }, chip);
        } catch (error) {
          if (answer) for (const b of row.querySelectorAll("button")) b.removeAttribute("aria-disabled");
          toast(`Not sent: ${error.message}`, "error");
        }
      });
    } else if (keep) {
      button.setAttribute("aria-disabled", "true");
      button.title += ` (${why})`;
    } else {
      button.disabled = true;
      button.title += ` (${why})`;
    }
    row.append(button);
  }
  return row;
}

function cardNode(message, card, index, act, fileUrl) {
  const node = el("div", `card ${card.orientation.toLowerCase()} ${card.alignment.toLowerCase()}`);
  node.dataset.index = String(index);
  if (card.media) node.append(mediaNode(mediaOf(card.media, fileUrl, card.title)));
  const body = el("div", "body");
  if (card.title) {
    const title = el("div", "title", card.title);
    title.dir = "auto";
    body.append(title);
  }
  if (card.description) body.append(linkedText("description", card.description));
  const chips = message.suggestions.filter((s) => s.card === index);
  if (chips.length) body.append(chipsNode(message, chips, act, "not received yet", false));
  if (body.childElementCount) node.append(body); // an image-only card is its image alone
  else node.classList.add("media-only");
  return node;
}

// Whether the user answered this message (tapped one of its replies, or typed back): a phone
// takes no second answer to the same chips.
export const answered = (message) => message.events.some((e) => e.type === "reply" || e.type === "message");

// `act(body)` acts as the user on this message (a tap). Chips under the message itself are
// offered only while it is the newest the phone received and is not answered yet (`offer`), as
// RCS clients do; chips inside cards stay.
export function agentBubble(message, fileUrl, act, offer, pendingAnswer = false) {
  const sms = message.channel === "SMS";
  // A message scheduled for later has not reached the phone: shown apart, nothing to tap yet.
  const scheduled = message.status === "scheduled";
  // A phone without RCS (or a message that never reached it) cannot answer: chips disabled.
  const refused = message.can_answer === false && !scheduled;
  const lost = NEVER_ARRIVED.has(message.status);
  if (scheduled || refused) act = null;
  const bubble = el("div", `bubble agent kind-${message.kind}${sms ? " sms" : ""}${scheduled ? " scheduled" : ""}${lost ? " lost" : ""}`);
  bubble.dataset.messageId = message.id;
  bubble.dataset.kind = message.kind;
  bubble.dataset.status = message.status;
  const { cards, card_width: width, file } = message.display;
  if (cards.length > 1) {
    const row = el("div", `carousel ${(width || "MEDIUM").toLowerCase()}`);
    // It scrolls sideways: the keyboard reaches it even when none of its chips can be tapped.
    row.tabIndex = 0;
    row.setAttribute("role", "group");
    row.setAttribute("aria-label", `Carousel of ${cards.length} cards`);
    cards.forEach((card, i) => row.append(cardNode(message, card, i, act, fileUrl)));
    bubble.append(row);
  } else if (cards.length === 1) {
    bubble.append(cardNode(message, cards[0], 0, act, fileUrl));
  } else if (file) {
    bubble.append(mediaNode(mediaOf(file, fileUrl, message.text)));
  } else {
    bubble.append(linkedText("text", message.text));
  }
  const status = el("div", "status", statusLine(message));
  if (lost) status.prepend(el("span", "warning", "\u26a0 "));
  bubble.append(status);
  // Chips under the message, outside its bubble, as RCS clients draw them.
  const turn = el("div", "turn agent-turn");
  turn.append(bubble);
  const global = message.suggestions.filter((s) => s.card === null);
  if (global.length) {
    const closed = answered(message) || pendingAnswer;
    const why = scheduled ? "not received yet" : refused ? message.answer_refusal
      : closed ? "already answered" : "a client offers these only under the newest message";
    turn.append(chipsNode(message, global, offer && !closed ? act : null, why, offer && closed));
  }
  return turn;
}

const SAID = { reply: "tapped", message: "sent" };

// What the user did (typed, tapped) as bubbles on the user's side, each with its time and a
// key that stays the same across draws.
export function userBubbles(message) {
  const items = [];
  message.events.forEach((e, index) => {
    // An action tap (dial, open a link...) is not something the user says: no bubble for it.
    if (!e.inbound || e.type === "action" || (e.text === null && e.postback === null)) return;
    // A tap shows as the chip's label, the way a client echoes it.
    const chip = message.suggestions.find((s) => s.postback === e.postback);
    const said = e.text !== null ? e.text : chip ? chip.label : e.postback;
    items.push({ key: `u|${message.id}|${index}`, time: e.time, sig: "",
                 build: () => userBubble(said, `${SAID[e.type] || e.type} at ${timeOf(e.time)}`, e.type) });
  });
  return items;
}

export function userBubble(said, footer, type, pending = false) {
  const bubble = el("div", `bubble user event-${type}${pending ? " pending" : ""}`);
  bubble.tabIndex = -1;
  const text = el("div", "text", said);
  text.dir = "auto";
  bubble.append(text, el("div", "status", footer));
  return bubble;
}
