package dev.gtramp.ftrace;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

/**
 * The undo log of one ftrace update ({@code ftrace_startup}, {@code ftrace_shutdown},
 * {@code __ftrace_hash_move_and_update_ops}): every mutation registers its inverse, and a failed
 * update runs them in reverse, so records, ops, hashes and sites are exactly as before the call.
 * The kernel has no counterpart: it verifies the sites after updating its records and then kills
 * ftrace ({@code ftrace_bug}); the model verifies first and rolls back.
 *
 * <p>It also collects the records the update touched ({@link #dirty}), the ones
 * {@code ftrace_replace_code} must look at.
 *
 * <p>Invariant: a record's flags are saved at most once, before its first change, so the rollback
 * restores the value it had when the update began. Used by one thread under {@code ftrace_lock}.
 */
final class UndoLog {
    /** Indexes of the records whose flags the update changed. */
    final BitSet dirty = new BitSet();
    private final BitSet saved = new BitSet();
    private final List<Runnable> undo = new ArrayList<>();

    /** Saves the flags of {@code r} (record number {@code index}) unless already saved. */
    void saveRec(DynFtrace r, int index) {
        if (!saved.get(index)) {
            saved.set(index);
            int old = r.flags;
            undo.add(() -> r.flags = old);
        }
    }

    /** Registers {@code r} as the inverse of the mutation just made. */
    void onUndo(Runnable r) {
        undo.add(r);
    }

    /** Runs every inverse, newest first, and empties the log. */
    void rollback() {
        for (int i = undo.size() - 1; i >= 0; i--) {
            undo.get(i).run();
        }
        undo.clear();
    }
}
