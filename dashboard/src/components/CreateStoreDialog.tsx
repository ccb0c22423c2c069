import { useId, useState, type SyntheticEvent } from "react";
import { ApiError } from "../api/client";
import { useCreateStore, useEngines } from "../api/queries";
import type { CreateStore, EngineView, Store } from "../api/types";
import { newIdempotencyKey } from "../lib/idempotency";
import { ErrorPanel } from "./ErrorPanel";
import { Modal } from "./Modal";

const ENGINE_NAMES: Record<string, string> = { woocommerce: "WooCommerce", medusa: "Medusa" };

export function engineName(type: string): string {
  return ENGINE_NAMES[type] ?? type;
}

function engineHint(engine: EngineView): string {
  if (engine.enabled) return engine.description;
  const why = `Not available: this installation has not enabled ${engineName(engine.type)} yet.`;
  return engine.description === "" ? why : `${engine.description} — ${why}`;
}

function createErrorMessage(error: unknown): unknown {
  if (error instanceof ApiError && error.hasType("quota-exceeded")) {
    return new ApiError(error.status, error.problem && {
      ...error.problem,
      title: "You have reached your store limit",
      detail: `${error.problem.detail ?? ""} Delete a store you no longer need, or ask an administrator to raise your limit.`.trim(),
    }, error.message);
  }
  return error;
}

export function CreateStoreDialog({
  open,
  onClose,
  onCreated,
}: {
  open: boolean;
  onClose: () => void;
  onCreated: (store: Store) => void;
}) {
  return (
    <Modal open={open} onClose={onClose} title="Create a store">
      {/* Mounted per opening, so each dialog gets its own Idempotency-Key. */}
      {open && <CreateStoreForm onCancel={onClose} onCreated={onCreated} />}
    </Modal>
  );
}

function CreateStoreForm({ onCancel, onCreated }: { onCancel: () => void; onCreated: (store: Store) => void }) {
  const engines = useEngines();
  const create = useCreateStore();
  const nameId = useId();
  const nameHelpId = useId();
  const [name, setName] = useState("");
  const [chosenType, setChosenType] = useState<CreateStore["type"] | null>(null);
  // One key per submission: a retry of the same form (say, after a network
  // error) reuses it, so the API never creates the store twice; editing the
  // form makes it a new submission with a new key.
  const [idempotencyKey, setIdempotencyKey] = useState(newIdempotencyKey);

  const firstEnabled = engines.data?.find((e) => e.enabled)?.type ?? null;
  const type = chosenType ?? firstEnabled;
  const trimmed = name.trim();

  function edited() {
    if (create.isError) {
      setIdempotencyKey(newIdempotencyKey());
      create.reset();
    }
  }

  function submit(event: SyntheticEvent<HTMLFormElement>) {
    event.preventDefault();
    if (trimmed === "" || type === null || create.isPending) return;
    create.mutate({ name: trimmed, type, idempotencyKey }, { onSuccess: onCreated });
  }

  return (
    <form onSubmit={submit} noValidate className="space-y-4">
      <div>
        <label htmlFor={nameId} className="block text-sm font-medium text-slate-800">
          Store name
        </label>
        <input
          id={nameId}
          name="name"
          type="text"
          required
          autoComplete="off"
          data-autofocus
          aria-describedby={nameHelpId}
          value={name}
          onChange={(e) => {
            setName(e.target.value);
            edited();
          }}
          className="mt-1 block w-full rounded-md border border-slate-400 px-3 py-2 text-slate-900 focus:border-indigo-600 focus:outline-2 focus:outline-indigo-600"
        />
        <p id={nameHelpId} className="mt-1 text-xs text-slate-600">
          Shown in this dashboard only; the store gets its own random id and URL.
        </p>
      </div>

      <fieldset>
        <legend className="text-sm font-medium text-slate-800">Store type</legend>
        {engines.isPending && (
          <p role="status" className="mt-2 text-sm text-slate-600">
            Loading the store types this installation offers…
          </p>
        )}
        {engines.isError && (
          <div className="mt-2">
            <ErrorPanel what="Could not load store types" error={engines.error} onRetry={() => void engines.refetch()} />
          </div>
        )}
        {engines.data && (
          <div className="mt-2 space-y-2">
            {engines.data.map((engine) => {
              const hintId = `${nameId}-engine-${engine.type}-hint`;
              const radioId = `${nameId}-engine-${engine.type}`;
              return (
                <div
                  key={engine.type}
                  className={`flex gap-3 rounded-md border p-3 ${
                    engine.enabled
                      ? "border-slate-300 has-[:checked]:border-indigo-600 has-[:checked]:bg-indigo-50"
                      : "border-slate-200 bg-slate-50"
                  }`}
                >
                  <input
                    id={radioId}
                    type="radio"
                    name="type"
                    value={engine.type}
                    checked={type === engine.type}
                    disabled={!engine.enabled}
                    aria-describedby={hintId}
                    onChange={() => {
                      setChosenType(engine.type);
                      edited();
                    }}
                    className="mt-1"
                  />
                  <div>
                    <label
                      htmlFor={radioId}
                      className={`block font-medium ${engine.enabled ? "cursor-pointer text-slate-900" : "cursor-not-allowed text-slate-600"}`}
                    >
                      {engineName(engine.type)}
                    </label>
                    <p id={hintId} className="text-sm text-slate-600">
                      {engineHint(engine)}
                    </p>
                  </div>
                </div>
              );
            })}
            {firstEnabled === null && (
              <p className="text-sm text-red-800">No store type is enabled in this installation; ask an administrator to set STOREFLEET_ENGINES.</p>
            )}
          </div>
        )}
      </fieldset>

      {create.isError && <ErrorPanel what="The store was not created" error={createErrorMessage(create.error)} />}

      <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
        <button type="button" onClick={onCancel} className="btn-secondary">
          Cancel
        </button>
        <button type="submit" className="btn-primary" disabled={trimmed === "" || type === null || create.isPending}>
          {create.isPending ? "Creating…" : "Create store"}
        </button>
      </div>
    </form>
  );
}
