/** An application that embeds projntk through its public API. */
module org.projntk.example {
    requires org.projntk;
}
