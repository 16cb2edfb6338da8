package dev.gtramp.kernel.image;

import dev.gtramp.kernel.btf.FunctionPrototype;

import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The counts of a {@link KernelImage} that {@code gtramp image} reports. For the embedded Linux
 * 6.18 image the first four reproduce the facts measured on the real kernel.
 *
 * @param image                     the image name
 * @param btfFunctions              BTF {@code FUNC} entries
 * @param btfFunctionsOver6Params   of those, with more than 6 params ({@code FUNC_PROTO} vlen)
 * @param btfFunctionsOver12Params  of those, with more than 12 params
 * @param btfAndKallsyms            BTF functions that are also kallsyms text symbols
 * @param btfAndKallsymsOver6Params of those, with more than 6 params
 * @param kallsymsTextSymbols       text symbols in the kallsyms source, padding labels included
 * @param kallsymsPaddingLabels     {@code __pfx_} labels among them
 * @param ambiguousNames            BTF functions whose name kallsyms lists at more than one address
 * @param aliases                   BTF functions whose address an earlier BTF function also has (one
 *                                  body and entry site under several names)
 * @param traceable                 functions with a patch site
 * @param traceableOver6ArgRegs     traceable functions needing more than 6 argument registers
 *                                  (stack arguments: the global trampoline cannot serve them)
 * @param traceableBpfUnsupported   traceable functions the BPF trampoline rejects (varargs, floats,
 *                                  big structs by value, too many arguments)
 * @param decisions                 how many functions got each {@link TraceDecision}
 * @param paramHistogram            BTF functions by param count
 * @param argRegsHistogram          traceable, BPF-supported functions by argument registers
 */
public record ImageSummary(String image, int btfFunctions, int btfFunctionsOver6Params,
                           int btfFunctionsOver12Params, int btfAndKallsyms, int btfAndKallsymsOver6Params,
                           int kallsymsTextSymbols, int kallsymsPaddingLabels, int ambiguousNames, int aliases,
                           int traceable, int traceableOver6ArgRegs, int traceableBpfUnsupported,
                           Map<TraceDecision, Integer> decisions, Map<Integer, Integer> paramHistogram,
                           Map<Integer, Integer> argRegsHistogram) {

    public ImageSummary {
        decisions = Map.copyOf(decisions);
        paramHistogram = Map.copyOf(paramHistogram);
        argRegsHistogram = Map.copyOf(argRegsHistogram);
    }

    static ImageSummary of(KernelImage image) {
        int over6 = 0;
        int over12 = 0;
        int both = 0;
        int bothOver6 = 0;
        int ambiguous = 0;
        int traceable = 0;
        int stackArgs = 0;
        int unsupported = 0;
        Map<TraceDecision, Integer> decisions = new EnumMap<>(TraceDecision.class);
        Map<Integer, Integer> params = new TreeMap<>();
        Map<Integer, Integer> regs = new TreeMap<>();
        for (ImageFunction f : image.functions()) {
            FunctionPrototype p = f.prototype();
            int n = p.paramCount();
            over6 += n > 6 ? 1 : 0;
            over12 += n > 12 ? 1 : 0;
            params.merge(n, 1, Integer::sum);
            decisions.merge(f.decision(), 1, Integer::sum);
            if (f.hasAddress()) {
                both++;
                bothOver6 += n > 6 ? 1 : 0;
                ambiguous += f.isAmbiguous() ? 1 : 0;
            }
            if (f.isTraceable()) {
                traceable++;
                if (!p.isBpfSupported()) {
                    unsupported++;
                } else {
                    regs.merge(p.argRegs(), 1, Integer::sum);
                    stackArgs += p.hasStackArgs() ? 1 : 0;
                }
            }
        }
        KernelImage.SourceCounts sc = image.sourceCounts();
        return new ImageSummary(image.name(), image.functions().size(), over6, over12, both, bothOver6,
                sc.kallsymsTextSymbols(), sc.kallsymsPaddingLabels(), ambiguous, image.aliasCount(), traceable, stackArgs,
                unsupported, decisions, params, regs);
    }
}
