// Text from records (keys, values, headers) shown with its control characters escaped and
// marked, so a NUL or a terminal escape never reaches the page raw.

import { controlEscape, splitControls } from "../lib/format.ts";

export function SafeText({ text }: { text: string }) {
  return (
    <>
      {splitControls(text).map((part) =>
        part.control ? (
          <span class="ctl" title={`control character U+${part.text.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`}>
            {controlEscape(part.text)}
          </span>
        ) : (
          part.text
        ),
      )}
    </>
  );
}
