// A carousel's layout, as the provider documents describe it: "the height of the first few cards in the carousel
// determines the height of all the cards", and a card whose content does not fit is truncated in
// this order: description to one line, title to one line, suggestions from the end of the list,
// the description, the title. Run on the carousels once they are in the page (it needs layout).
//
// Every carousel of the page is fitted at once, reading the layout of all cards, then changing
// all that overflow, round by round: a handful of layouts for the whole page, not one per card.

const FIRST_FEW = 2; // "the first few": the first two cards set the height
const MAX_HEIGHT_REM = 30; // a phone's screen: no card grows past it

const PEEK = 32; // px of the next card that show at least, so a person sees there is more

// Cards that would end exactly at the carousel's edge hide that it scrolls: where the next card
// would show less than PEEK, the whole ones narrow a little so it does.
function peek(rows) {
  const sizes = rows.map((row) => ({
    width: row.clientWidth, card: row.firstElementChild?.getBoundingClientRect().width || 0,
    gap: parseFloat(getComputedStyle(row).columnGap) || 0,
  }));
  rows.forEach((row, i) => {
    const { width, card, gap } = sizes[i];
    const whole = card ? Math.floor((width + gap) / (card + gap)) : 0;
    if (!whole || whole >= row.children.length) return; // one card wider than all, or all fit
    if (width - whole * (card + gap) >= PEEK) return;
    row.style.setProperty("--card-width", `${Math.floor((width - PEEK - whole * gap) / whole)}px`);
    row.classList.add("peek");
  });
}

function overflows(card) {
  return card.scrollHeight > card.clientHeight + 1;
}

// The truncation steps a card can take, in the document's order.
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

export function fitCarousels(rows) {
  if (!rows.length) return;
  peek(rows);
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  const heights = rows.map((row) => {
    const natural = [...row.children].slice(0, FIRST_FEW).map((card) => card.getBoundingClientRect().height);
    return Math.min(Math.max(0, ...natural), MAX_HEIGHT_REM * rem);
  });
  rows.forEach((row, i) => {
    row.style.setProperty("--card-height", `${Math.ceil(heights[i])}px`);
    row.classList.add("fitted");
  });
  let cutting = rows.flatMap((row) => [...row.children]).map((card) => ({ card, steps: steps(card), applied: [] }));
  while (cutting.length) {
    const over = cutting.filter((c) => overflows(c.card)); // one layout for every card
    for (const c of over) {
      const [name, apply] = c.steps.shift();
      apply();
      c.applied.push(name);
      c.card.dataset.truncated = c.applied.join(" ");
    }
    cutting = over.filter((c) => c.steps.length);
  }
}
