package dev.gtramp.trampoline;

import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.Kernel;
import dev.gtramp.kernel.lib.RcuLongHashTable;

/**
 * The md table on {@link RcuLongHashTable}, after v2's {@code kfunc_md_array}: {@code hash_ptr(ip,
 * bits)} buckets of RCU chains, grown at 90% and shrunk at 30% by publishing a rebuilt bucket array
 * and freeing the old one after a grace period. Its arrays are allocator objects
 * ({@code kfunc_md_array}), so a growth can fail ({@code alloc:kfunc_md_array}) and a leak shows.
 */
final class RcuTableMdIndex implements KfuncMdIndex {
    private final RcuLongHashTable<KfuncMd> table;

    RcuTableMdIndex(Kernel kernel) {
        this.table = new RcuLongHashTable<>(kernel, "kfunc_md");
    }

    @Override
    public KfuncMd find(Frame frame) {
        return table.lookup(frame.function().ip());
    }

    @Override
    public KfuncMd lookup(KernelFunction f) {
        return table.lookup(f.ip());
    }

    @Override
    public void insert(KfuncMd md) {
        table.insert(md.ip, md);
    }

    @Override
    public void remove(KfuncMd md) {
        table.remove(md.ip);
    }

    @Override
    public int size() {
        return table.size();
    }
}
