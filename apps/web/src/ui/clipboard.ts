/**
 * Copies `text`; where the Clipboard API is missing or refused (plain http on another host, a denied
 * permission), selects `fallback` so the user can copy it with the keyboard. Returns whether it copied.
 */
export async function copyText(text: string, fallback: HTMLElement | null): Promise<boolean> {
  try {
    if (!navigator.clipboard) throw new Error('no Clipboard API');
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const selection = window.getSelection();
    if (fallback && selection) selection.selectAllChildren(fallback);
    return false;
  }
}
