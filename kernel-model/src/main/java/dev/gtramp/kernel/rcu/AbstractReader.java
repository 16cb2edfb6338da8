package dev.gtramp.kernel.rcu;

/**
 * What every reader has: its domain and its context. Subclasses add the padded word that grace
 * periods read.
 */
abstract class AbstractReader implements RcuReader {
    final AbstractRcu domain;
    final RcuContext context;

    AbstractReader(AbstractRcu domain, RcuContext context) {
        this.domain = domain;
        this.context = context;
    }

    /** Whether the reader cannot hold a reference obtained before the grace period {@code target} began. */
    abstract boolean quiescentFor(long target);

    /**
     * Takes an online reader that is outside every read section offline, whatever keeps it online,
     * for a blocking wait of its owner; returns what {@link #resume(int)} needs to restore it.
     */
    int suspend() {
        return 0;
    }

    /** Undoes {@link #suspend()}. */
    void resume(int state) {
    }

    @Override
    public Thread owner() {
        return context.owner();
    }

    @Override
    public String describe() {
        return context.describe();
    }
}
