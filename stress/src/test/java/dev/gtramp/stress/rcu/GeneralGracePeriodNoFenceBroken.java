package dev.gtramp.stress.rcu;

import dev.gtramp.stress.gate.CaughtBy;
import dev.gtramp.stress.gate.KnownGap;
import org.openjdk.jcstress.annotations.Description;

/**
 * A gate fixture: the annotations of a twin that the captured {@code broken.log} ran, since replaced
 * by {@link ReaderFenceLitmus}. It stands for a listed known gap in the gate's own tests; it is not
 * a jcstress test.
 */
@CaughtBy("1, 1")
@KnownGap("store buffering only: the reader's epoch store must stay in the store buffer for the whole of"
        + " the writer's path from its unpublish to its scan")
@Description("broken on purpose (RCU_READER_NO_FENCE), must show 1, 1")
public class GeneralGracePeriodNoFenceBroken {
}
