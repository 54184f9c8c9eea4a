/** Text where `backticked` parts are code, for short notes kept as plain strings. */
export function InlineCode({ text }: { text: string }) {
  return (
    <>
      {text.split('`').map((part, index) =>
        // Odd parts sat between backticks; a part's index is its stable identity in one text.
        // biome-ignore lint/suspicious/noArrayIndexKey: the parts of one string never reorder.
        index % 2 === 1 ? <code key={index}>{part}</code> : part,
      )}
    </>
  );
}
