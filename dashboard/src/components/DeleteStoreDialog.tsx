import { useDeleteStore } from "../api/queries";
import type { Store } from "../api/types";
import { ErrorPanel } from "./ErrorPanel";
import { Modal } from "./Modal";

export function DeleteStoreDialog({
  store,
  onClose,
  onDeleted,
}: {
  store: Store | null;
  onClose: () => void;
  onDeleted?: (store: Store) => void;
}) {
  const remove = useDeleteStore();
  const close = () => {
    remove.reset();
    onClose();
  };
  return (
    <Modal open={store !== null} onClose={close} title={store ? `Delete “${store.name}”?` : "Delete store"}>
      {store && (
        <div className="space-y-4">
          <p className="text-slate-700">
            This uninstalls the store and deletes its namespace <code className="font-mono text-sm">{store.namespace}</code> with
            its database, volume and secrets. Its products and orders are lost. This cannot be undone.
          </p>
          {remove.isError && <ErrorPanel what="The store was not deleted" error={remove.error} />}
          <div className="flex flex-col-reverse gap-2 sm:flex-row sm:justify-end">
            <button type="button" onClick={close} className="btn-secondary" data-autofocus>
              Cancel
            </button>
            <button
              type="button"
              className="btn-danger"
              disabled={remove.isPending}
              onClick={() => {
                remove.mutate(store.id, {
                  onSuccess: (deleted) => {
                    remove.reset();
                    onClose();
                    onDeleted?.(deleted);
                  },
                });
              }}
            >
              {remove.isPending ? "Deleting…" : "Delete store"}
            </button>
          </div>
        </div>
      )}
    </Modal>
  );
}
