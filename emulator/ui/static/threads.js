// A conversation's thread across redraws, as a phone keeps it: what is being typed (value,
// focus, caret) survives; a thread shows its newest message (it is laid out bottom up, so it
// starts there without measuring anything), unless the person scrolled up to read older ones:
// then what they read stays in view and a "new message" button says something came in.

export function typedIn(box) {
  const input = box && box.querySelector("input[name=text]");
  return input && { value: input.value, focused: document.activeElement === input,
                    start: input.selectionStart, end: input.selectionEnd };
}

export function restoreTyped(box, typed) {
  const input = box.querySelector("input[name=text]");
  if (!typed || !input) return;
  input.value = typed.value;
  if (typed.focused) {
    input.focus();
    input.setSelectionRange(typed.start, typed.end);
  }
}

const AT_NEWEST = 4; // px from the bottom that still count as "at the newest message"

// Where a reader stands, if not at the newest message: how far up, in a thread how tall, and
// which message was the newest then. (The thread scrolls bottom up: scrollTop is 0 at the
// newest message and negative above it.)
export function readingOf(box) {
  const thread = box && box.querySelector(".thread");
  if (!thread || -thread.scrollTop <= AT_NEWEST) return null;
  return { up: -thread.scrollTop, height: thread.scrollHeight, newest: box.dataset.newest,
           marked: Boolean(box.querySelector(".new-below")) };
}

export function keepReading(box, reading) {
  // Laid out now, not when the browser next decides it is on screen (content-visibility):
  // else the scroll set below lands in a thread that has no height yet.
  box.style.contentVisibility = "visible";
  const thread = box.querySelector(".thread");
  thread.scrollTop = -(reading.up + (thread.scrollHeight - reading.height));
  if (reading.marked || box.dataset.newest !== reading.newest) markNew(box);
}

function markNew(box) {
  if (box.querySelector(".new-below")) return;
  const thread = box.querySelector(".thread");
  const button = document.createElement("button");
  button.type = "button";
  button.className = "new-below";
  button.textContent = "New message \u2193";
  button.addEventListener("click", () => {
    thread.scrollTop = 0;
    button.remove();
    thread.querySelector(".messages > :last-child .bubble")?.focus();
  });
  thread.after(button);
}

// The mark goes once the reader is back at the newest message.
export function watchThread(box) {
  const thread = box.querySelector(".thread");
  thread.addEventListener("scroll", () => {
    if (-thread.scrollTop <= AT_NEWEST) box.querySelector(".new-below")?.remove();
  }, { passive: true });
}
