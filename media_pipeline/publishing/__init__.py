"""Publishing: the validation verdict, one show's run, uploads, the manifest, rendering, publish, release and unpublish."""
