/** A similar-examples HTTP service that embeds projntk. */
module org.projntk.server {
    requires org.projntk;
    requires jdk.httpserver;
    requires java.desktop; // PNG queries (ImageIO)
}
