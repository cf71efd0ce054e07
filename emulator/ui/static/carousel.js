// The Generic document's carousel layout: "the height of the first few cards in the carousel
// determines the height of all the cards", and a card whose content does not fit is truncated in
// this order: description to one line, title to one line, suggestions from the end of the list,
// the description, the title. Run on a carousel once it is in the page (it needs layout).

const FIRST_FEW = 2; // "the first few": the first two cards set the height
const MAX_HEIGHT_REM = 30; // a phone's screen: no card grows past it

function overflows(card) {
  return card.scrollHeight > card.clientHeight + 1;
}

function steps(card) {
  const title = card.querySelector(".title");
  const description = card.querySelector(".description");
  const chips = [...card.querySelectorAll(".chips .chip")].reverse();
  const found = [];
  if (description) found.push(["description-one-line", () => card.classList.add("clamp-description")]);
  if (title) found.push(["title-one-line", () => card.classList.add("clamp-title")]);
  for (const chip of chips) found.push(["chip-removed", () => chip.remove()]);
  if (description) found.push(["description-removed", () => description.remove()]);
  if (title) found.push(["title-removed", () => title.remove()]);
  // Beyond the document: media taller than the height the first cards set is cropped to it.
  if (card.querySelector(".media")) found.push(["media-cropped", () => card.classList.add("crop-media")]);
  return found;
}

function truncate(card) {
  const applied = [];
  for (const [name, apply] of steps(card)) {
    if (!overflows(card)) break;
    apply();
    applied.push(name);
  }
  if (applied.length) card.dataset.truncated = applied.join(" ");
}

export function fitCarousel(row) {
  const cards = [...row.children];
  if (!cards.length) return;
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const natural = cards.slice(0, FIRST_FEW).map((card) => card.getBoundingClientRect().height);
  const height = Math.min(Math.max(...natural), MAX_HEIGHT_REM * rem);
  row.style.setProperty("--card-height", `${Math.ceil(height)}px`);
  row.classList.add("fitted");
  cards.forEach(truncate);
}
