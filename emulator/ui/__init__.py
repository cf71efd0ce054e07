"""The phone-preview inbox: a page that shows what each phone received, as an RCS client would."""
