/** The Canopy leaf; the same drawing as the favicon. */
export function Logo({ size = 28 }: { size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <rect width="32" height="32" rx="7" fill="var(--accent)" />
      <path
        d="M16 6c-5.5 0-9 3.6-9 8.2 0 3.6 2.6 6.3 6.2 6.8h5.6c3.6-.5 6.2-3.2 6.2-6.8C25 9.6 21.5 6 16 6z"
        fill="#e8f5ec"
      />
      <path d="M16 12v14" stroke="#e8f5ec" strokeWidth="2.4" strokeLinecap="round" />
    </svg>
  );
}
