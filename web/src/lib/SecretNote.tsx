/** What the page says about where it keeps the one-time secret (the README says the same). */
export function SecretNote() {
  return (
    <details class="hint secret-note">
      <summary>Where does this page keep the reset's secret?</summary>
      <p>
        A reset uses a one-time secret that only this browser holds: the guardians' codes are useless without it, and it is useless without the codes. The page keeps it, and the codes you typed, in this browser's storage
        (IndexedDB), encrypted with a key the browser keeps and never lets any script read out. Closing the tab loses nothing: open the page again in this browser. Once the request is finalized, cancelled or expired, the page erases the secret and the codes.
      </p>
      <p>
        This protects the secret from someone who copies the browser's files. It does not protect it from malware on this device, a malicious browser extension, or someone using this browser while it is unlocked. Finish a reset in the
        browser that requested it.
      </p>
    </details>
  );
}
