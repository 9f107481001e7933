/**
 * projntk: projected neural tangent kernels of PyTorch models.
 *
 * <p>The public API is the exported packages, one per stage of the data flow (torch → project → store → kernel →
 * analysis, attribution). {@code internal} (native loading, status handling) and {@code bindings} (generated FFM code) are not
 * exported; {@code cli} is the command line's implementation (run it with {@code -m org.projntk/org.projntk.cli.Main}).
 * Native calls need {@code --enable-native-access=org.projntk}.
 */
module org.projntk {
    requires com.fasterxml.jackson.databind;
    requires info.picocli;
    requires ai.djl.tokenizers; // text: datasets (Hugging Face tokenizer.json)
    // ai.djl.tokenizers and ai.djl.api are automatic modules, which declare no dependencies: name the named modules
    // they load, so that text: datasets work on the module path with no --add-modules
    requires org.slf4j;
    requires com.google.gson;
    requires java.desktop; // PNG charts and image grids (AWT, ImageIO), always headless

    exports org.projntk;
    exports org.projntk.torch;
    exports org.projntk.project;
    exports org.projntk.data;
    exports org.projntk.store;
    exports org.projntk.featurize;
    exports org.projntk.kernel;
    exports org.projntk.analysis;
    exports org.projntk.attribution;
    exports org.projntk.workflow;

    // reflection: Jackson reads and writes the manifest and report records, picocli fills the command classes
    opens org.projntk.store to com.fasterxml.jackson.databind;
    opens org.projntk.analysis to com.fasterxml.jackson.databind;
    opens org.projntk.attribution to com.fasterxml.jackson.databind;
    opens org.projntk.cli to info.picocli, com.fasterxml.jackson.databind;
}
