/**
 * The confirmation asked before every call that changes something (a
 * rollout action, a quarantine clear): a modal <dialog> naming what will
 * happen, focus on Cancel, Escape cancels. Resolves true only on the
 * confirming button.
 */
import { fill, h } from "./dom";

export function confirmDialog(dialog: HTMLDialogElement, title: string, consequence: string, confirmLabel: string, danger: boolean): Promise<boolean> {
  const titleId = `${dialog.id || "confirm"}-title`;
  dialog.setAttribute("aria-labelledby", titleId);
  const cancel = h("button", { type: "button" }, "Cancel");
  const ok = h("button", { type: "button", class: danger ? "danger" : "primary" }, confirmLabel);
  fill(dialog, h("h2", { id: titleId }, title), h("p", null, consequence), h("p", { class: "actions" }, cancel, " ", ok));
  return new Promise((resolve) => {
    const done = (yes: boolean) => {
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      resolve(yes);
    };
    const onCancel = () => done(false);
    cancel.addEventListener("click", () => done(false), { once: true });
    ok.addEventListener("click", () => done(true), { once: true });
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    cancel.focus();
  });
}

/** The message for a refused call: a 401 says where the token goes. */
export function refusal(what: string, err: unknown, status: number | undefined): string {
  const hint = status === 401 ? " — paste the admin token above (Admin token) and try again" : "";
  return `${what} refused: ${err instanceof Error ? err.message : String(err)}${hint}`;
}
