// A conversation's thread across redraws: what is being typed (value, focus, caret) survives,
// and each thread shows its newest message, as a phone does.

// What a redraw must not lose: the text being typed in a conversation, the focus, the caret.
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

// Each thread shows its newest message, as a phone does (all heights read, then all set: one
// layout for the page).
export function scrollToNewest(boxes) {
  const threads = boxes.map((box) => box.querySelector(".thread"));
  const heights = threads.map((thread) => thread.scrollHeight);
  threads.forEach((thread, i) => { thread.scrollTop = heights[i]; });
}
