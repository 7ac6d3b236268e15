package model

// DocumentRef says where a document's encrypted bytes are, for the lazy blob resolvers: a query that
// does not select blob or originalBlob never decrypts anything.
type DocumentRef struct {
	OrderID    string
	DocumentID string
	// Download is set on the documents of SignatoryViewerDownload: their bytes are read as the
	// signatory's download, with the verification it was asked with.
	Download *DownloadVerification
}

// DownloadVerification is the login a signatory's download was asked with (nil fields: none).
type DownloadVerification struct {
	OIDCJWT, CriiptoVerifyJWT *string
}
