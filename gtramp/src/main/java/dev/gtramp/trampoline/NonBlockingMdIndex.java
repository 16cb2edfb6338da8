package dev.gtramp.trampoline;

import dev.gtramp.kernel.Errno;
import dev.gtramp.kernel.Frame;
import dev.gtramp.kernel.KernelFunction;
import dev.gtramp.kernel.KernelException;
import org.jctools.maps.NonBlockingHashMapLong;

/**
 * The md table on JCTools {@link NonBlockingHashMapLong}: lock-free gets that allocate nothing (the
 * keys are primitive), a resize that readers help with instead of waiting for. Removal does not free
 * the md; {@link KfuncMds} does that after the grace period of its protocol, so a caller that found it
 * keeps a valid object.
 */
final class NonBlockingMdIndex implements KfuncMdIndex {
    private final NonBlockingHashMapLong<KfuncMd> map = new NonBlockingHashMapLong<>();

    @Override
    public KfuncMd find(Frame frame) {
        return map.get(frame.function().ip());
    }

    @Override
    public KfuncMd lookup(KernelFunction f) {
        return map.get(f.ip());
    }

    @Override
    public void insert(KfuncMd md) {
        if (map.putIfAbsent(md.ip, md) != null) {
            throw new KernelException(Errno.EEXIST, "kfunc_md of " + md.function.name() + " is already in the table");
        }
    }

    @Override
    public void remove(KfuncMd md) {
        map.remove(md.ip, md);
    }

    @Override
    public int size() {
        return map.size();
    }
}
