package model

// DocumentRef says where a document's encrypted bytes are, for the lazy blob resolvers: a query that
// does not select blob or originalBlob never decrypts anything.
type DocumentRef struct {
	OrderID    string
	DocumentID string
}
