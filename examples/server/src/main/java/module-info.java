/** A similar-examples HTTP service that embeds projntk. */
module org.projntk.server {
    requires org.projntk;
    requires jdk.httpserver;
    requires java.desktop; // PNG queries (ImageIO)
    requires com.fasterxml.jackson.databind; // the JSON answers

    opens org.projntk.server to com.fasterxml.jackson.databind;
}
